/**
 * The extension's own environment for the server: a Python venv in the extension's
 * global storage folder, into which the set-up installs the wheel the .vsix ships
 * (`<extension>/server/quiver_lsp-<version>-py3-none-any.whl`, put there by
 * `make dist`), its dependencies coming from the package index. The extension then
 * runs `<venv>/bin/quiver` (serverCommand.ts tries it after the settings), so the
 * user edits neither PATH nor a setting. Node only (child_process, fs), no `vscode`
 * import: client.ts shows the progress and the errors.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MIN_PYTHON_VERSION, compareVersions, expandPath, parseVersion } from "./serverCommand";

/** Where the environment lives and the two executables in it. */
export interface PrivateEnvironment {
  dir: string;
  python: string;
  quiver: string;
}

/** The environment inside `storageDir` (the extension's `globalStorageUri.fsPath`). */
export function privateEnvironment(storageDir: string, platform: NodeJS.Platform = process.platform): PrivateEnvironment {
  const dir = path.join(storageDir, "venv");
  const [bin, exe] = platform === "win32" ? ["Scripts", ".exe"] : ["bin", ""];
  return { dir, python: path.join(dir, bin, `python${exe}`), quiver: path.join(dir, bin, `quiver${exe}`) };
}

const WHEEL_NAME = /^quiver_lsp-(\d+\.\d+\.\d+)-py3-none-any\.whl$/;

/** The version in a wheel's file name (`quiver_lsp-0.1.0-py3-none-any.whl` → `0.1.0`). */
export function wheelVersion(wheel: string): string | undefined {
  return WHEEL_NAME.exec(path.basename(wheel))?.[1];
}

/**
 * The wheel the extension ships in `<extensionDir>/server/` (the newest, should
 * there be several), or undefined for an extension run from its sources. Reads
 * one directory.
 */
export function findShippedWheel(extensionDir: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(extensionDir, "server"));
  } catch {
    return undefined;
  }
  const wheels = names.filter((name) => WHEEL_NAME.test(name));
  wheels.sort((a, b) => compareVersions(wheelVersion(b) ?? "0", wheelVersion(a) ?? "0"));
  return wheels[0] === undefined ? undefined : path.join(extensionDir, "server", wheels[0]);
}

/** The Python the set-up uses: `quiver.pythonPath` when set, else `python3` (`python` on Windows) on PATH. */
export function setupPython(
  pythonPath: string | undefined,
  workspaceRoot?: string,
  platform: NodeJS.Platform = process.platform,
): string {
  const setting = pythonPath?.trim() ?? "";
  if (setting !== "") {
    return expandPath(setting, workspaceRoot);
  }
  return platform === "win32" ? "python" : "python3";
}

/** Prints the interpreter's version, `3.11.2`. */
const VERSION_SCRIPT = "import sys; print('%d.%d.%d' % sys.version_info[:3])";

/** Whether what `VERSION_SCRIPT` printed is a Python the server runs on; else why not. */
export function judgePython(
  python: string,
  printed: string,
): { ok: true; version: string } | { ok: false; message: string } {
  const version = parseVersion(printed.trim());
  if (version !== undefined && compareVersions(version, MIN_PYTHON_VERSION) >= 0) {
    return { ok: true, version };
  }
  return {
    ok: false,
    message:
      `Quiver: ${python} is ${version === undefined ? `not a Python I understand (it printed "${printed.trim()}")` : `Python ${version}`}; ` +
      `the server needs Python ${MIN_PYTHON_VERSION} or newer.\n` +
      `Suggestion: install Python ${MIN_PYTHON_VERSION} or newer and set quiver.pythonPath to it ` +
      "(e.g. /usr/bin/python3.12), then run Quiver: Set Up Server.",
  };
}

/** A set-up that failed; `message` says why, with a `Suggestion:` line. */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

/** Where the set-up tells what it does: a short step for the progress, each line of output for the log. */
export interface SetupReporter {
  step(message: string): void;
  log(line: string): void;
}

export interface SetupOptions {
  /** The interpreter to make the venv with (`setupPython`). */
  python: string;
  environment: PrivateEnvironment;
  /** The wheel to install (`findShippedWheel`). */
  wheel: string;
  report: SetupReporter;
  /** The environment of the commands (default: this process's; pip reads its proxy and index settings there). */
  env?: NodeJS.ProcessEnv;
  /** The limit for pip (default 15 minutes: it downloads numba and onnxruntime on a slow line). */
  installTimeoutMs?: number;
}

export interface SetupResult {
  /** The server to run: `environment.quiver`. */
  quiver: string;
  /** What `quiver --version` printed. */
  version: string;
  /** The version of the Python the venv was made with. */
  python: string;
}

interface RunOutcome {
  code: number | null;
  spawnError?: NodeJS.ErrnoException;
  /** stdout and stderr, line by line, in the order they came. */
  lines: string[];
  timedOut: boolean;
}

/** Runs a command, passing each line of its output to `log` as it comes. */
function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; log: (line: string) => void },
): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    let timedOut = false;
    const child = spawn(command, args, { env: options.env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const parts = (pending + chunk).split(/\r?\n/);
        pending = parts.pop() ?? "";
        for (const line of parts) {
          lines.push(line);
          options.log(line);
        }
      });
      stream.on("end", () => {
        if (pending !== "") {
          lines.push(pending);
          options.log(pending);
        }
      });
    }
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, spawnError: error, lines, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, lines, timedOut });
    });
  });
}

/** The last non-empty line of the output, for a one-line reason. */
function lastWords(outcome: RunOutcome): string {
  const said = outcome.lines.map((line) => line.trim()).filter((line) => line !== "");
  if (outcome.timedOut) {
    return "it did not finish in time";
  }
  return said[said.length - 1] ?? outcome.spawnError?.message ?? "no output";
}

function exitText(outcome: RunOutcome): string {
  return outcome.timedOut ? "timed out" : `exit code ${String(outcome.code)}`;
}

/** A lock older than this was left by a window that died mid-way (pip's limit is 15 minutes). */
const STALE_LOCK_MS = 30 * 60_000;

/** Takes `<venv>.lock` (a directory: mkdir is atomic); throws when a live set-up holds it. */
function takeLock(lock: string): void {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  try {
    fs.mkdirSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw error;
    }
    if (Date.now() - fs.statSync(lock).mtimeMs < STALE_LOCK_MS) {
      throw new SetupError(
        "Quiver: another VS Code window is setting up Quiver's server right now.\n" +
          "Suggestion: wait for it to finish (its progress shows in that window), then click Retry here.",
      );
    }
    // Left by a window that died: take it over.
    fs.utimesSync(lock, new Date(), new Date());
  }
}

/**
 * Sets the environment up from scratch: checks the Python (3.11+), replaces any
 * venv there with a new one, pip-installs the wheel into it (its dependencies from
 * the package index: about 250 MB, a minute or two) and checks that its `quiver`
 * runs. Answers the server to run. Throws a `SetupError` that says what failed and
 * what to do; a failed set-up leaves no environment behind, so the next start does
 * not find a half-made one.
 */
export async function setUpServer(options: SetupOptions): Promise<SetupResult> {
  const { python, environment, wheel, report, env } = options;
  const log = (line: string): void => report.log(line);
  const lock = `${environment.dir}.lock`;
  takeLock(lock);
  try {
    report.step("checking the Python");
    const checked = await run(python, ["-c", VERSION_SCRIPT], { env, timeoutMs: 30_000, log });
    if (checked.spawnError !== undefined || checked.code !== 0) {
      const said = checked.spawnError === undefined ? `: ${lastWords(checked)}` : "";
      throw new SetupError(
        `Quiver: no Python to set up the server with (tried ${python}${said}).\n` +
          `Suggestion: install Python ${MIN_PYTHON_VERSION} or newer and set quiver.pythonPath to it, ` +
          "then run Quiver: Set Up Server.",
      );
    }
    const judged = judgePython(python, checked.lines.join("\n"));
    if (!judged.ok) {
      throw new SetupError(judged.message);
    }

    report.step("creating the environment");
    fs.rmSync(environment.dir, { recursive: true, force: true });
    const venv = await run(python, ["-m", "venv", environment.dir], { env, timeoutMs: 120_000, log });
    if (venv.code !== 0) {
      throw new SetupError(
        `Quiver: \`${python} -m venv ${environment.dir}\` failed (${exitText(venv)}): ${lastWords(venv)}\n` +
          "Suggestion: on Debian or Ubuntu install the venv module (`sudo apt install python3-venv`), " +
          "or set quiver.pythonPath to another Python; then run Quiver: Set Up Server.",
      );
    }

    report.step("installing the server and its dependencies (numpy, numba, onnxruntime, tantivy…)");
    const install = await run(
      environment.python,
      ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", wheel],
      { env, timeoutMs: options.installTimeoutMs ?? 15 * 60_000, log },
    );
    if (install.code !== 0) {
      throw new SetupError(
        `Quiver: installing the server failed (pip ${exitText(install).replace("exit code", "exited with code")}): ` +
          `${lastWords(install)}\n` +
          "Suggestion: pip's messages are in the Quiver output (Quiver: Show Output); pip downloads the " +
          "dependencies from the package index, so check the network or pip's proxy settings, then run " +
          "Quiver: Set Up Server again.",
      );
    }

    report.step("checking the server");
    const probe = await run(environment.quiver, ["--version"], { env, timeoutMs: 60_000, log });
    const version = parseVersion(probe.lines.join("\n"));
    if (probe.code !== 0 || version === undefined) {
      throw new SetupError(
        `Quiver: the server was installed but \`${environment.quiver} --version\` failed ` +
          `(${exitText(probe)}): ${lastWords(probe)}\n` +
          "Suggestion: the output is in Quiver: Show Output; report it, or install the server yourself and " +
          "set quiver.serverPath.",
      );
    }
    return { quiver: environment.quiver, version, python: judged.version };
  } catch (error) {
    fs.rmSync(environment.dir, { recursive: true, force: true });
    throw error;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
