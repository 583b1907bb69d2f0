/**
 * Runs `<server> --version` before starting the language server to find it, so
 * that a missing install (no executable, or an interpreter without Quiver) gets a
 * clear message instead of a crashed client. The version itself is judged from
 * the server's `initialize` answer (`checkServerVersion`), not from this output.
 * Node only (child_process), no `vscode` import.
 */
import { execFile } from "node:child_process";
import { classifyProbe, versionArgs, type ProbeResult, type ServerCommand } from "./serverCommand";

/**
 * Runs the version command with `timeoutMs` as its limit and classifies the
 * outcome (ok, missing, broken). Costs one process start (the Python
 * interpreter's import time).
 */
export function probeServer(
  server: ServerCommand,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      server.command,
      versionArgs(server),
      { timeout: options.timeoutMs ?? 15_000, env: options.env, cwd: options.cwd, windowsHide: true },
      (error, stdout, stderr) => {
        const errno = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (errno !== null && typeof errno.code === "string") {
          // A string code is a spawn failure (ENOENT, EACCES); a numeric one is an exit code.
          resolve(classifyProbe({ spawnError: errno }));
          return;
        }
        if (errno?.killed === true) {
          resolve({ kind: "broken", detail: "`--version` did not answer in time" });
          return;
        }
        const exitCode = errno === null ? 0 : typeof errno.code === "number" ? errno.code : 1;
        resolve(classifyProbe({ exitCode, stdout: String(stdout), stderr: String(stderr) }));
      },
    );
  });
}

/** What looking through the candidates found. */
export type ServerSearch =
  | { kind: "found"; server: ServerCommand }
  /** No candidate runs Quiver; `tried` lists them all, in order. */
  | { kind: "notFound"; tried: ServerCommand[] }
  /** A candidate exists but fails: the search stops there, so the user sees why. */
  | { kind: "broken"; server: ServerCommand; result: ProbeResult };

/**
 * Probes `candidates` in order (see `serverCandidates`) and answers the first that
 * runs; a missing one (no executable, an interpreter without Quiver) passes to the
 * next, a broken one stops the search. Costs one process start per candidate tried.
 */
export async function findServer(
  candidates: readonly ServerCommand[],
  probe: (server: ServerCommand) => Promise<ProbeResult> = (server) => probeServer(server),
): Promise<ServerSearch> {
  for (const server of candidates) {
    const result = await probe(server);
    if (result.kind === "ok") {
      return { kind: "found", server };
    }
    if (result.kind === "broken") {
      return { kind: "broken", server, result };
    }
  }
  return { kind: "notFound", tried: [...candidates] };
}
