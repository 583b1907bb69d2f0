/**
 * A fake `quiver` that is too old, for the tests of the extension's "too old"
 * error in the fake host (test/integration) and in real VS Code (test/realhost);
 * with a current version, the server the fake set-up installs (../fakes/fakePython.ts).
 * Plain Node only: the realhost suite loads it inside VS Code's extension host.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The version the fake answers to `--version` and in `initialize`'s serverInfo. */
export const OLD_SERVER_VERSION = "0.0.9";

/**
 * The fake's source: prints `quiver 0.0.9` (or `version`) for `--version` (the probe
 * that finds a working executable); otherwise speaks just enough LSP on stdio to
 * answer `initialize` with that `serverInfo.version` (where the extension learns the
 * version) and `shutdown`, to refuse every other request (MethodNotFound), and to
 * exit on `exit`. Appends each method it gets to `log`, one a line ("response" for
 * answers to its own requests, which it sends none of).
 */
export function oldServerScript(log: string, version: string = OLD_SERVER_VERSION): string {
  return String.raw`#!${process.execPath}
const fs = require("node:fs");
if (process.argv.includes("--version")) {
  console.log("quiver ${version}");
  process.exit(0);
}
const send = (message) => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }));
  process.stdout.write("Content-Length: " + body.length + "\r\n\r\n");
  process.stdout.write(body);
};
let buffer = Buffer.alloc(0);
process.stdin.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const length = Number(/Content-Length: *(\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString());
    buffer = buffer.subarray(end + 4 + length);
    fs.appendFileSync(${JSON.stringify(log)}, (message.method ?? "response") + "\n");
    if (message.method === "initialize") {
      send({ id: message.id, result: { capabilities: {}, serverInfo: { name: "quiver", version: "${version}" } } });
    } else if (message.method === "shutdown") {
      send({ id: message.id, result: null });
    } else if (message.method === "exit") {
      process.exit(0);
    } else if (message.id !== undefined && message.method !== undefined) {
      send({ id: message.id, error: { code: -32601, message: "not supported by the fake" } });
    }
  }
});
`;
}

/**
 * Writes the fake as the executable `file` (its folder created); `log` gets the
 * methods it receives; `version` is the one it names (default: too old).
 */
export function writeOldServer(file: string, log: string, version: string = OLD_SERVER_VERSION): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, oldServerScript(log, version), { mode: 0o755 });
}

/** The LSP methods the fake received so far, in order (none before it started). */
export function receivedMethods(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter((line) => line !== "") : [];
}
