/**
 * The suite's side of ../protocol.ts: asks the driver for what only the browser can
 * do, and helpers to wait with a limit. Runs in VS Code's extension host (plain Node
 * APIs only here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_ENV, REQUEST_PREFIX, type HostConfig, type UiAction, type UiActions, type UiAnswer } from "../protocol";

/** The driver's configuration, from the environment it gave code-server. */
export function hostConfig(): HostConfig {
  const raw = process.env[CONFIG_ENV];
  if (raw === undefined) {
    throw new Error(`${CONFIG_ENV} is not set: run this suite through test/realhost/driver.ts`);
  }
  return JSON.parse(raw) as HostConfig;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let nextId = 1;

/**
 * Asks the driver for `action` and waits for its answer (the action's own limit is
 * `timeoutMs`; the answer may take 5 s more). Throws the driver's error.
 */
export async function ui<A extends UiAction>(
  action: A,
  args: UiActions[A]["args"],
  timeoutMs = 15_000,
): Promise<UiActions[A]["result"]> {
  const id = nextId++;
  const file = path.join(hostConfig().channel, `${id}.json`);
  console.log(`${REQUEST_PREFIX}${JSON.stringify({ id, action, args, timeoutMs })}`);
  const until = Date.now() + timeoutMs + 5000;
  while (!fs.existsSync(file)) {
    if (Date.now() > until) {
      throw new Error(`the driver did not answer ${action} ${JSON.stringify(args)} in ${timeoutMs + 5000} ms`);
    }
    await sleep(50);
  }
  const answer = JSON.parse(fs.readFileSync(file, "utf8")) as UiAnswer<A>;
  if (!answer.ok) {
    throw new Error(`${action} ${JSON.stringify(args)}: ${answer.error}`);
  }
  return answer.value;
}

/**
 * Calls `probe` every 100 ms until it returns something other than undefined, and
 * returns that; throws, saying what it waited for and what it saw last, after `timeoutMs`.
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  describe: () => string = () => "",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe() ? `; last seen: ${describe()}` : ""}`);
    }
    await sleep(100);
  }
}

/** Rejects when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
