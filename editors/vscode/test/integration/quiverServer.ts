/**
 * Runs the real `quiver serve --stdio` for the integration test, speaking to
 * it through vscode-languageserver-protocol — the JSON-RPC stack that
 * vscode-languageclient itself uses — since VS Code cannot be downloaded here.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigurationRequest,
  RegistrationRequest,
  ShowMessageNotification,
  LogMessageNotification,
  ShowMessageRequest,
  StreamMessageReader,
  StreamMessageWriter,
  UnregistrationRequest,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
  createProtocolConnection,
  type ProtocolConnection,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from "vscode-languageserver-protocol/node";
import { StatusChangedNotification, StatusRequest, type StatusResponse } from "../../src/protocol";

/** editors/vscode/out/test/integration → the repository root. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..", "..");
const FIXTURE = path.join(REPO_ROOT, "tests", "editors", "fixtures", "workspace");

/** The quiver executable: $QUIVER_BIN, else the checkout's .venv/bin/quiver. */
export function quiverBinary(): string {
  const fromEnv = process.env.QUIVER_BIN?.trim();
  if (fromEnv) {
    return fromEnv;
  }
  return path.join(REPO_ROOT, ".venv", "bin", process.platform === "win32" ? "quiver.exe" : "quiver");
}

/**
 * Why the integration test cannot run, or undefined when `quiver serve` is
 * there. Runs `quiver serve --help` once (a Python start-up, ~0.3 s).
 */
export function unavailableReason(binary: string): string | undefined {
  if (binary.includes(path.sep) && !fs.existsSync(binary)) {
    return `no quiver executable at ${binary} (set QUIVER_BIN or run \`make setup\` in the repository root)`;
  }
  const probe = spawnSync(binary, ["serve", "--help"], { encoding: "utf8", timeout: 60_000 });
  if (probe.error !== undefined) {
    return `\`${binary} serve --help\` could not run: ${probe.error.message}`;
  }
  if (probe.status !== 0) {
    const said = `${probe.stderr}${probe.stdout}`.trim().split("\n").slice(-1)[0] ?? "";
    return `\`quiver serve\` is not available yet (\`${binary} serve --help\` exited ${String(probe.status)}: ${said})`;
  }
  return undefined;
}

/** A fresh copy of tests/editors/fixtures/workspace plus a cache directory, both temporary. */
export function makeWorkspace(): { root: string; cacheDir: string; cleanup(): void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-vscode-it-"));
  const root = path.join(base, "workspace");
  const cacheDir = path.join(base, "cache");
  fs.cpSync(FIXTURE, root, { recursive: true });
  fs.mkdirSync(cacheDir);
  return { root, cacheDir, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

export type ProgressEvent = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** A running server and what it sent us besides answers. */
export interface ServerSession {
  connection: ProtocolConnection;
  process: ChildProcessWithoutNullStreams;
  progress: ProgressEvent[];
  statusChanges: StatusResponse[];
  messages: string[];
  stderr(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `binary serve --stdio` in `cwd` with HOME and XDG_CACHE_HOME inside
 * `scratch`, so the server writes nowhere else, and answers the requests a
 * client must answer (progress creation, registrations, configuration).
 */
export function startServer(binary: string, cwd: string, scratch: string): ServerSession {
  const env = { ...process.env, HOME: scratch, XDG_CACHE_HOME: path.join(scratch, "xdg-cache") };
  const child = spawn(binary, ["serve", "--stdio"], { cwd, env, stdio: "pipe" });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const connection = createProtocolConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const session: ServerSession = {
    connection,
    process: child,
    progress: [],
    statusChanges: [],
    messages: [],
    stderr: () => stderr,
    exited,
  };
  connection.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    connection.onProgress(WorkDoneProgress.type, token, (value) => session.progress.push(value));
    return null;
  });
  connection.onRequest(RegistrationRequest.type, () => null);
  connection.onRequest(UnregistrationRequest.type, () => null);
  connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => ({})));
  connection.onRequest(ShowMessageRequest.type, (params) => {
    session.messages.push(params.message);
    return null;
  });
  connection.onNotification(ShowMessageNotification.type, (params) => session.messages.push(params.message));
  connection.onNotification(LogMessageNotification.type, (params) => session.messages.push(params.message));
  connection.onNotification(StatusChangedNotification, (status) => session.statusChanges.push(status));
  connection.listen();
  return session;
}

export function fileUri(file: string): string {
  return pathToFileURL(file).toString();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `quiver/status` until the state is "ready", at most `timeoutMs`.
 * Fails with the last status and the server's stderr when it never gets there.
 */
export async function waitUntilReady(session: ServerSession, timeoutMs: number): Promise<StatusResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusResponse | undefined;
  while (Date.now() < deadline) {
    last = await session.connection.sendRequest(StatusRequest, {});
    if (last.state === "ready") {
      return last;
    }
    if (last.state === "error") {
      break;
    }
    await sleep(250);
  }
  throw new Error(
    `the index did not become ready within ${timeoutMs} ms; last status: ${JSON.stringify(last)}\n` +
      `server stderr:\n${session.stderr()}`,
  );
}

/** Retries `probe` every 200 ms until it returns a value, at most `timeoutMs`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}
