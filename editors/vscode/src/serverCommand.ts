/**
 * Which commands may start the Quiver server, in the order they are tried (the
 * user's settings, the extension's own environment, `quiver` on PATH); whether
 * a command runs at all (the `--version` probe); whether the version the server
 * names in its `initialize` answer is one this extension speaks to; and what to
 * tell the user, with the exact command to run, when none can be used.
 * No `vscode` import.
 */
import * as os from "node:os";
import * as path from "node:path";

/** The oldest server that implements docs/protocol.md as this extension uses it. */
export const MIN_SERVER_VERSION = "0.1.0";

/** The oldest Python the server runs on (pyproject's `requires-python`). */
export const MIN_PYTHON_VERSION = "3.11";

export interface ServerSettings {
  /** `quiver.serverPath`: an executable; wins over everything else. */
  serverPath?: string;
  /**
   * `quiver.pythonPath`: an interpreter; tried as `python -m quiver` when set, and the
   * Python the set-up creates the extension's own environment with.
   */
  pythonPath?: string;
}

/**
 * Where a command came from: a setting, the environment the extension set up in its
 * global storage (`serverSetup.ts`), or `quiver` on PATH.
 */
export type ServerSource = "serverPath" | "pythonPath" | "privateEnvironment" | "PATH";

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

/**
 * The commands to try, in order, until one runs (`findServer` in serverProbe.ts):
 * `quiver.serverPath` alone when it is set (the user named the server: nothing
 * else is tried); else `quiver.pythonPath -m quiver` when that is set, the
 * extension's own environment (`privateQuiver`, when there is a storage folder),
 * and `quiver` on PATH.
 */
export function serverCandidates(
  settings: ServerSettings,
  privateQuiver: string | undefined,
  workspaceRoot?: string,
): ServerCommand[] {
  const serverPath = settings.serverPath?.trim() ?? "";
  if (serverPath !== "") {
    return [{ command: expandPath(serverPath, workspaceRoot), prefixArgs: [], source: "serverPath" }];
  }
  const candidates: ServerCommand[] = [];
  const pythonPath = settings.pythonPath?.trim() ?? "";
  if (pythonPath !== "") {
    candidates.push({
      command: expandPath(pythonPath, workspaceRoot),
      prefixArgs: ["-m", "quiver"],
      source: "pythonPath",
    });
  }
  if (privateQuiver !== undefined) {
    candidates.push({ command: privateQuiver, prefixArgs: [], source: "privateEnvironment" });
  }
  candidates.push({ command: "quiver", prefixArgs: [], source: "PATH" });
  return candidates;
}

/** The first command `serverCandidates` would try, without an environment of the extension's own. */
export function resolveServerCommand(
  settings: ServerSettings,
  workspaceRoot?: string,
): ServerCommand {
  const [first] = serverCandidates(settings, undefined, workspaceRoot);
  if (first === undefined) {
    throw new Error("serverCandidates always names `quiver` on PATH");
  }
  return first;
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

/** The button that starts the set-up of the extension's own environment. */
export const SET_UP_BUTTON = "Set Up Quiver's Server";

/** A word a POSIX shell takes as it is; anything else is single-quoted. */
function shellWord(word: string): string {
  return /^[\w./~:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The command a user runs to install the server themselves: pipx with the wheel this
 * extension ships (`--force` to replace an older one), or, when it ships none (run
 * from a checkout), `make dist` first.
 */
export function installCommand(wheel: string | undefined, options: { upgrade?: boolean } = {}): string {
  const force = options.upgrade === true ? "--force " : "";
  if (wheel === undefined) {
    return `make dist && pipx install ${force}dist/quiver_lsp-*-py3-none-any.whl`;
  }
  return `pipx install ${force}${shellWord(wheel)}`;
}

/** "`pipx install W`", or the checkout's command with where to run it. */
function installPhrase(wheel: string | undefined, options: { upgrade?: boolean } = {}): string {
  const command = `\`${installCommand(wheel, options)}\``;
  return wheel === undefined ? `${command} in a Quiver checkout` : command;
}

/**
 * Where a command was looked for, for "tried ..." lists. The extension's own
 * environment is named without its long path (the toast must stay short; the
 * output channel has the path).
 */
function placeName(server: ServerCommand): string {
  switch (server.source) {
    case "serverPath":
      return `quiver.serverPath (${server.command})`;
    case "pythonPath":
      return `quiver.pythonPath (${server.command} -m quiver)`;
    case "privateEnvironment":
      return "the extension's own environment";
    case "PATH":
      return "`quiver` on PATH";
  }
}

/** The server as the subject of a sentence: "the server <this> is version ...". */
function serverName(server: ServerCommand): string {
  return server.source === "privateEnvironment" ? `in ${placeName(server)} (${server.command})` : placeName(server);
}

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export interface InstallAdvice {
  /** The wheel the extension ships (`<extension>/server/quiver_lsp-*.whl`), if any. */
  wheel?: string;
  /** Whether the extension can set up an environment of its own (a wheel and a storage folder). */
  canSetUp: boolean;
}

/**
 * The notification text when no command in `tried` runs Quiver: every place that was
 * tried, then a `Suggestion:` with the exact command to run, and the set-up button
 * when the extension can set the server up itself.
 */
export function notFoundMessage(tried: readonly ServerCommand[], advice: InstallAdvice): string {
  const first = `Quiver: the language server was not found (tried ${listed(tried.map(placeName))}).`;
  const install = installPhrase(advice.wheel);
  let suggestion: string;
  if (tried.some((server) => server.source === "serverPath")) {
    suggestion =
      `install it with ${install}, or clear quiver.serverPath so that the extension ` +
      "finds `quiver` on PATH or sets up its own.";
  } else if (advice.canSetUp) {
    suggestion =
      `click ${SET_UP_BUTTON} to install it for this extension (Python ${MIN_PYTHON_VERSION}+; ` +
      `a minute or two), or run ${install} and click Retry.`;
  } else {
    suggestion = `install it with ${install}, then click Retry; or set quiver.serverPath / quiver.pythonPath.`;
  }
  return `${first}\nSuggestion: ${suggestion}`;
}

/**
 * The notification text for a probe or a version check that failed: what went
 * wrong and a `Suggestion:` that says how to fix it, with the exact command to
 * run (`wheel`: the one the extension ships). A server in the extension's own
 * environment that is too old or broken is set up again with the set-up button.
 * Undefined when it passed.
 */
export function probeMessage(
  server: ServerCommand,
  result: ProbeResult | VersionCheck,
  wheel?: string,
): string | undefined {
  const setUpAgain =
    server.source === "privateEnvironment" && wheel !== undefined
      ? `click ${SET_UP_BUTTON} to install the server this extension ships again.`
      : undefined;
  switch (result.kind) {
    case "ok":
      return undefined;
    case "missing":
      return notFoundMessage([server], { wheel, canSetUp: false });
    case "tooOld":
      return (
        `Quiver: the server ${serverName(server)} is version ${result.version}; this extension needs ` +
        `${MIN_SERVER_VERSION} or newer.\nSuggestion: ` +
        (setUpAgain ??
          `upgrade it with ${installPhrase(wheel, { upgrade: true })}, or point quiver.serverPath at a newer one.`)
      );
    case "broken":
      return (
        `Quiver: the server ${serverName(server)} did not start: ${result.detail}\nSuggestion: ` +
        (setUpAgain ?? "run it by hand with `--version` to see the error, or reinstall Quiver.")
      );
  }
}
