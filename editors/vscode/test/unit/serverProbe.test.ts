// Runs `--version` on small real executables to check the process handling
// (exit codes, spawn errors, timeouts); the classification itself is covered
// in serverCommand.test.ts; findServer's order with a stub probe.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { findServer, probeServer } from "../../src/serverProbe";
import { serverCandidates, type ProbeResult, type ServerCommand } from "../../src/serverCommand";

let dir: string;

function script(name: string, body: string): ServerCommand {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return { command: file, prefixArgs: [], source: "serverPath" };
}

describe("probeServer", { skip: process.platform === "win32" ? "needs /bin/sh" : false }, () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-probe-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("finds a working executable", async () => {
    const server = script("good", 'echo "quiver 0.4.2"');
    assert.deepEqual(await probeServer(server), { kind: "ok" });
  });

  it("reports a path that does not exist as missing", async () => {
    const server: ServerCommand = { command: path.join(dir, "nope"), prefixArgs: [], source: "serverPath" };
    assert.equal((await probeServer(server)).kind, "missing");
  });

  it("reports a non-zero exit with its stderr", async () => {
    const server = script("crash", 'echo "ImportError: numpy" >&2; exit 3');
    assert.deepEqual(await probeServer(server), { kind: "broken", detail: "ImportError: numpy" });
  });

  it("gives up on an executable that hangs", async () => {
    const server = script("hang", "exec sleep 10");
    const result = await probeServer(server, { timeoutMs: 200 });
    assert.equal(result.kind, "broken");
  });

  it("passes the -m quiver prefix to an interpreter", async () => {
    const server = script(
      "python",
      'if [ "$*" = "-m quiver --version" ]; then echo "quiver 0.2.0"; else echo "args: $*" >&2; exit 2; fi',
    );
    const result = await probeServer({ ...server, prefixArgs: ["-m", "quiver"], source: "pythonPath" });
    assert.deepEqual(result, { kind: "ok" });
  });
});

describe("findServer", () => {
  const candidates = serverCandidates({ pythonPath: "/usr/bin/python3" }, "/s/venv/bin/quiver");
  const probing = (answers: Record<string, ProbeResult>) => {
    const asked: string[] = [];
    const probe = (server: ServerCommand): Promise<ProbeResult> => {
      asked.push(server.source);
      return Promise.resolve(answers[server.source] ?? { kind: "missing", detail: "ENOENT" });
    };
    return { asked, probe };
  };

  it("takes the first candidate that runs, in order, without probing the rest", async () => {
    const { asked, probe } = probing({ privateEnvironment: { kind: "ok" }, PATH: { kind: "ok" } });
    const found = await findServer(candidates, probe);
    assert.equal(found.kind, "found");
    assert.equal(found.kind === "found" ? found.server.source : "", "privateEnvironment");
    assert.deepEqual(asked, ["pythonPath", "privateEnvironment"]);
  });

  it("lists every candidate when none runs", async () => {
    const { asked, probe } = probing({});
    const found = await findServer(candidates, probe);
    assert.deepEqual(found, { kind: "notFound", tried: candidates });
    assert.deepEqual(asked, ["pythonPath", "privateEnvironment", "PATH"]);
  });

  it("stops at a candidate that exists but fails, so that its error is shown", async () => {
    const broken: ProbeResult = { kind: "broken", detail: "ImportError: numpy" };
    const { asked, probe } = probing({ privateEnvironment: broken, PATH: { kind: "ok" } });
    const found = await findServer(candidates, probe);
    assert.deepEqual(found, { kind: "broken", server: candidates[1], result: broken });
    assert.deepEqual(asked, ["pythonPath", "privateEnvironment"]);
  });
});
