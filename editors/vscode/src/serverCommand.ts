/**
 * Which command starts the Quiver server, from the user's settings; whether
 * that command runs at all (the `--version` probe); and whether the version the
 * server names in its `initialize` answer is one this extension speaks to.
 * No `vscode` import.
 */
import * as os from "node:os";
import * as path from "node:path";

/** The oldest server that implements docs/protocol.md as this extension uses it. */
export const MIN_SERVER_VERSION = "0.1.0";

export interface ServerSettings {
  /** `quiver.serverPath`: an executable; wins over everything else. */
  serverPath?: string;
  /** `quiver.pythonPath`: an interpreter with Quiver installed. */
  pythonPath?: string;
}

export type ServerSource = "serverPath" | "pythonPath" | "PATH";

export interface ServerCommand {
  command: string;
  /** The arguments before `serve --stdio` / `--version`: `[]` or `["-m", "quiver"]`. */
  prefixArgs: string[];
  /** Which setting chose this command, for error messages. */
  source: ServerSource;
}

/**
 * Expands a leading `~` and `${userHome}`, and resolves a relative path
 * against the first workspace folder (as VS Code users expect from path settings).
 */
export function expandPath(value: string, workspaceRoot: string | undefined): string {
  let expanded = value.trim().replace(/\$\{userHome\}/g, os.homedir());
  if (workspaceRoot !== undefined) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, workspaceRoot);
  }
  if (expanded === "~" || expanded.startsWith("~/") || expanded.startsWith("~\\")) {
    expanded = path.join(os.homedir(), expanded.slice(1));
  }
  // A bare name ("quiver", "python3") is looked up on PATH; only paths with a
  // separator are made absolute.
  const hasSeparator = expanded.includes("/") || expanded.includes("\\");
  if (hasSeparator && !path.isAbsolute(expanded) && workspaceRoot !== undefined) {
    expanded = path.resolve(workspaceRoot, expanded);
  }
  return expanded;
}

/** The command to run: `serverPath`, else `pythonPath -m quiver`, else `quiver` on PATH. */
export function resolveServerCommand(
  settings: ServerSettings,
  workspaceRoot?: string,
): ServerCommand {
  const serverPath = settings.serverPath?.trim() ?? "";
  if (serverPath !== "") {
    return { command: expandPath(serverPath, workspaceRoot), prefixArgs: [], source: "serverPath" };
  }
  const pythonPath = settings.pythonPath?.trim() ?? "";
  if (pythonPath !== "") {
    return {
      command: expandPath(pythonPath, workspaceRoot),
      prefixArgs: ["-m", "quiver"],
      source: "pythonPath",
    };
  }
  return { command: "quiver", prefixArgs: [], source: "PATH" };
}

/** Arguments that start the language server over stdio. */
export function serveArgs(server: ServerCommand): string[] {
  return [...server.prefixArgs, "serve", "--stdio"];
}

/** Arguments that print the version (`quiver 0.1.0`): the probe that finds the executable. */
export function versionArgs(server: ServerCommand): string[] {
  return [...server.prefixArgs, "--version"];
}

/** The command line as a user would type it, for messages. */
export function describeCommand(server: ServerCommand, args: readonly string[]): string {
  const quote = (part: string): string => (/[\s"']/.test(part) ? JSON.stringify(part) : part);
  return [server.command, ...args].map(quote).join(" ");
}

/** The first `X.Y.Z` in a version text (`quiver 0.1.0` or `0.1.0` → `0.1.0`), if any. */
export function parseVersion(output: string): string | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (match === null) {
    return undefined;
  }
  return `${match[1]}.${match[2]}.${match[3] ?? "0"}`;
}

/** Negative when a < b, zero when equal, positive when a > b (numeric X.Y.Z). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) {
      return diff;
    }
  }
  return 0;
}

/** What running `--version` told us: whether the command runs Quiver at all. */
export type ProbeResult =
  | { kind: "ok" }
  | { kind: "missing"; detail: string }
  | { kind: "broken"; detail: string };

/** What the server's `initialize` answer (`serverInfo.version`) told us. */
export type VersionCheck =
  | { kind: "ok"; version: string }
  | { kind: "tooOld"; version: string }
  | { kind: "broken"; detail: string };

/**
 * Classifies the outcome of `<server> --version`: found and running, missing
 * (no such executable, or an interpreter without Quiver), or broken. The
 * version is not judged here but from the `initialize` answer (`checkServerVersion`).
 */
export function classifyProbe(
  outcome:
    | { spawnError: NodeJS.ErrnoException }
    | { exitCode: number | null; stdout: string; stderr: string },
): ProbeResult {
  if ("spawnError" in outcome) {
    const code = outcome.spawnError.code;
    if (code === "ENOENT" || code === "EACCES") {
      return { kind: "missing", detail: outcome.spawnError.message };
    }
    return { kind: "broken", detail: outcome.spawnError.message };
  }
  const text = `${outcome.stdout}\n${outcome.stderr}`;
  if (outcome.exitCode !== 0) {
    // `python -m quiver` without Quiver installed exits 1 with "No module named quiver".
    if (/No module named '?quiver/.test(text)) {
      return { kind: "missing", detail: text.trim() };
    }
    return { kind: "broken", detail: text.trim() || `exit code ${String(outcome.exitCode)}` };
  }
  return { kind: "ok" };
}

/**
 * Judges the version the running server names in its `initialize` answer
 * (`serverInfo`, as `client.initializeResult?.serverInfo`): too old below
 * `MIN_SERVER_VERSION`, broken when it names none.
 */
export function checkServerVersion(serverInfo: { name: string; version?: string } | undefined): VersionCheck {
  const version = parseVersion(serverInfo?.version ?? "");
  if (version === undefined) {
    return {
      kind: "broken",
      detail: `its initialize answer names no version (serverInfo: ${JSON.stringify(serverInfo ?? null)})`,
    };
  }
  if (compareVersions(version, MIN_SERVER_VERSION) < 0) {
    return { kind: "tooOld", version };
  }
  return { kind: "ok", version };
}

const INSTALL_HINT =
  "install it with `pip install quiver-lsp` (or `make setup` in a Quiver checkout, then point " +
  "`quiver.serverPath` at `.venv/bin/quiver`)";

/**
 * The notification text for a probe or a version check that failed: what went
 * wrong and a `Suggestion:` that says how to fix it. Undefined when it passed.
 */
export function probeMessage(server: ServerCommand, result: ProbeResult | VersionCheck): string | undefined {
  const where =
    server.source === "serverPath"
      ? `quiver.serverPath (${server.command})`
      : server.source === "pythonPath"
        ? `quiver.pythonPath (${server.command} -m quiver)`
        : "`quiver` on PATH";
  switch (result.kind) {
    case "ok":
      return undefined;
    case "missing":
      return (
        `Quiver: the language server was not found (tried ${where}).\n` +
        `Suggestion: ${INSTALL_HINT}, or set quiver.serverPath / quiver.pythonPath.`
      );
    case "tooOld":
      return (
        `Quiver: the server ${where} is version ${result.version}; this extension needs ` +
        `${MIN_SERVER_VERSION} or newer.\nSuggestion: upgrade it with ` +
        "`pip install --upgrade quiver-lsp`, or point quiver.serverPath at a newer one."
      );
    case "broken":
      return (
        `Quiver: the server ${where} did not start: ${result.detail}\n` +
        "Suggestion: run it by hand with `--version` to see the error, or reinstall Quiver."
      );
  }
}
