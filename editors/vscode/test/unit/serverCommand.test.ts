import { strict as assert } from "node:assert";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  MIN_SERVER_VERSION,
  checkServerVersion,
  classifyProbe,
  compareVersions,
  describeCommand,
  expandPath,
  parseVersion,
  probeMessage,
  resolveServerCommand,
  serveArgs,
  versionArgs,
} from "../../src/serverCommand";

describe("resolveServerCommand", () => {
  it("uses quiver on PATH when no setting is given", () => {
    const server = resolveServerCommand({});
    assert.deepEqual(server, { command: "quiver", prefixArgs: [], source: "PATH" });
    assert.deepEqual(serveArgs(server), ["serve", "--stdio"]);
    assert.deepEqual(versionArgs(server), ["--version"]);
  });

  it("runs the Python interpreter with -m quiver when pythonPath is set", () => {
    const server = resolveServerCommand({ pythonPath: "/opt/venv/bin/python" });
    assert.equal(server.source, "pythonPath");
    assert.deepEqual(serveArgs(server), ["-m", "quiver", "serve", "--stdio"]);
    assert.deepEqual(versionArgs(server), ["-m", "quiver", "--version"]);
  });

  it("prefers serverPath over pythonPath", () => {
    const server = resolveServerCommand({ serverPath: "/usr/local/bin/quiver", pythonPath: "python3" });
    assert.deepEqual(server, { command: "/usr/local/bin/quiver", prefixArgs: [], source: "serverPath" });
  });

  it("treats blank settings as unset", () => {
    assert.equal(resolveServerCommand({ serverPath: "  ", pythonPath: "" }).source, "PATH");
  });

  it("expands ~ and resolves relative paths against the workspace", () => {
    assert.equal(expandPath("~/bin/quiver", undefined), path.join(os.homedir(), "bin/quiver"));
    assert.equal(
      resolveServerCommand({ serverPath: ".venv/bin/quiver" }, "/work/repo").command,
      "/work/repo/.venv/bin/quiver",
    );
    assert.equal(
      resolveServerCommand({ pythonPath: "${workspaceFolder}/.venv/bin/python" }, "/work/repo").command,
      "/work/repo/.venv/bin/python",
    );
  });

  it("leaves a bare command name for PATH lookup", () => {
    assert.equal(resolveServerCommand({ pythonPath: "python3" }, "/work/repo").command, "python3");
  });
});

describe("versions", () => {
  it("reads the version from `quiver --version` output and from serverInfo.version", () => {
    assert.equal(parseVersion("quiver 0.1.0\n"), "0.1.0");
    assert.equal(parseVersion("0.2.0"), "0.2.0");
    assert.equal(parseVersion("quiver 1.2"), "1.2.0");
    assert.equal(parseVersion("usage: quiver"), undefined);
  });

  it("compares versions numerically, not as text", () => {
    assert.ok(compareVersions("0.10.0", "0.9.0") > 0);
    assert.ok(compareVersions("0.1.0", "0.1.1") < 0);
    assert.equal(compareVersions("1.0", "1.0.0"), 0);
  });
});

describe("classifyProbe", () => {
  const enoent = Object.assign(new Error("spawn quiver ENOENT"), { code: "ENOENT" });

  it("reports a missing executable", () => {
    assert.equal(classifyProbe({ spawnError: enoent }).kind, "missing");
  });

  it("reports an interpreter without the quiver module as missing", () => {
    const result = classifyProbe({
      exitCode: 1,
      stdout: "",
      stderr: "/usr/bin/python3: No module named quiver",
    });
    assert.equal(result.kind, "missing");
  });

  it("finds a command that runs; its version is judged from the initialize answer", () => {
    assert.deepEqual(classifyProbe({ exitCode: 0, stdout: "quiver 0.0.9", stderr: "" }), { kind: "ok" });
  });

  it("reports a crash with its output", () => {
    const result = classifyProbe({ exitCode: 2, stdout: "", stderr: "Traceback: boom" });
    assert.deepEqual(result, { kind: "broken", detail: "Traceback: boom" });
  });
});

describe("checkServerVersion", () => {
  it("reports a server older than the minimum as too old", () => {
    assert.deepEqual(checkServerVersion({ name: "quiver", version: "0.0.9" }), {
      kind: "tooOld",
      version: "0.0.9",
    });
  });

  it("accepts the minimum version and newer", () => {
    assert.deepEqual(checkServerVersion({ name: "quiver", version: MIN_SERVER_VERSION }), {
      kind: "ok",
      version: MIN_SERVER_VERSION,
    });
    assert.equal(checkServerVersion({ name: "quiver", version: "3.0.0" }).kind, "ok");
  });

  it("reports a server that names no version as broken", () => {
    assert.equal(checkServerVersion(undefined).kind, "broken");
    assert.equal(checkServerVersion({ name: "quiver" }).kind, "broken");
  });
});

describe("probeMessage", () => {
  it("says nothing when the server is fine", () => {
    assert.equal(probeMessage(resolveServerCommand({}), { kind: "ok" }), undefined);
    assert.equal(probeMessage(resolveServerCommand({}), { kind: "ok", version: "0.1.0" }), undefined);
  });

  it("names what was tried and ends with a Suggestion for a missing server", () => {
    const message = probeMessage(resolveServerCommand({}), { kind: "missing", detail: "ENOENT" }) ?? "";
    assert.match(message, /not found \(tried `quiver` on PATH\)/);
    assert.match(message, /\nSuggestion: .*pip install quiver-lsp.*quiver\.serverPath/);
  });

  it("names the setting and both versions for a server that is too old", () => {
    const server = resolveServerCommand({ pythonPath: "/venv/bin/python" });
    const message = probeMessage(server, { kind: "tooOld", version: "0.0.1" }) ?? "";
    assert.match(message, /quiver\.pythonPath \(\/venv\/bin\/python -m quiver\) is version 0\.0\.1/);
    assert.match(message, new RegExp(`needs ${MIN_SERVER_VERSION.replace(/\./g, "\\.")} or newer`));
    assert.match(message, /\nSuggestion: upgrade/);
  });
});

describe("describeCommand", () => {
  it("quotes arguments with spaces", () => {
    const server = resolveServerCommand({ serverPath: "/opt/my tools/quiver" });
    assert.equal(describeCommand(server, serveArgs(server)), '"/opt/my tools/quiver" serve --stdio');
  });
});
