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
  installCommand,
  notFoundMessage,
  parseVersion,
  probeMessage,
  resolveServerCommand,
  serveArgs,
  serverCandidates,
  versionArgs,
} from "../../src/serverCommand";

const WHEEL = "/ext/server/quiver_lsp-0.1.0-py3-none-any.whl";

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

describe("serverCandidates", () => {
  const privateQuiver = "/storage/venv/bin/quiver";

  it("tries the extension's own environment, then `quiver` on PATH", () => {
    const candidates = serverCandidates({}, privateQuiver);
    assert.deepEqual(candidates, [
      { command: privateQuiver, prefixArgs: [], source: "privateEnvironment" },
      { command: "quiver", prefixArgs: [], source: "PATH" },
    ]);
  });

  it("tries nothing but quiver.serverPath when it is set: the user named the server", () => {
    const candidates = serverCandidates({ serverPath: "/opt/quiver", pythonPath: "/usr/bin/python3" }, privateQuiver);
    assert.deepEqual(candidates, [{ command: "/opt/quiver", prefixArgs: [], source: "serverPath" }]);
  });

  it("tries quiver.pythonPath -m quiver first when it is set", () => {
    const candidates = serverCandidates({ pythonPath: "~/py/bin/python" }, privateQuiver);
    assert.deepEqual(
      candidates.map((c) => c.source),
      ["pythonPath", "privateEnvironment", "PATH"],
    );
    assert.equal(candidates[0]?.command, path.join(os.homedir(), "py/bin/python"));
  });

  it("has no private environment to try when there is no storage folder", () => {
    assert.deepEqual(serverCandidates({}, undefined).map((c) => c.source), ["PATH"]);
  });
});

describe("installCommand", () => {
  it("installs the wheel the extension ships with pipx", () => {
    assert.equal(installCommand(WHEEL), `pipx install ${WHEEL}`);
  });

  it("quotes a path a shell would split", () => {
    assert.equal(
      installCommand("/Users/Ann Lee/.vscode/ext/server/quiver_lsp-0.1.0-py3-none-any.whl"),
      "pipx install '/Users/Ann Lee/.vscode/ext/server/quiver_lsp-0.1.0-py3-none-any.whl'",
    );
  });

  it("without a shipped wheel, builds one in a Quiver checkout", () => {
    assert.equal(
      installCommand(undefined),
      "make dist && pipx install dist/quiver_lsp-*-py3-none-any.whl",
    );
  });

  it("reinstalls over an old version when asked to upgrade", () => {
    assert.equal(installCommand(WHEEL, { upgrade: true }), `pipx install --force ${WHEEL}`);
  });
});

describe("notFoundMessage", () => {
  const tried = serverCandidates({}, "/storage/venv/bin/quiver");

  it("names everything it tried, offers the set-up and says exactly what to run instead", () => {
    const message = notFoundMessage(tried, { wheel: WHEEL, canSetUp: true });
    const [first, suggestion, ...rest] = message.split("\n");
    assert.equal(
      first,
      "Quiver: the language server was not found (tried the extension's own environment and `quiver` on PATH).",
    );
    assert.deepEqual(rest, []);
    assert.match(suggestion ?? "", /^Suggestion: click Set Up Quiver's Server to install it for this extension \(Python 3\.11\+; a minute or two\)/);
    assert.ok(suggestion?.includes(`\`pipx install ${WHEEL}\``), suggestion);
    assert.match(suggestion ?? "", /Retry\.$/);
  });

  it("lists three places with commas", () => {
    const three = serverCandidates({ pythonPath: "/usr/bin/python3" }, "/s/venv/bin/quiver");
    const message = notFoundMessage(three, { wheel: WHEEL, canSetUp: true });
    assert.match(
      message,
      /^Quiver: the language server was not found \(tried quiver\.pythonPath \(\/usr\/bin\/python3 -m quiver\), the extension's own environment and `quiver` on PATH\)\./,
    );
  });

  it("for a quiver.serverPath that is not there: the command to install, and to clear the setting", () => {
    const message = notFoundMessage(serverCandidates({ serverPath: "/nope/quiver" }, undefined), {
      wheel: WHEEL,
      canSetUp: false,
    });
    assert.equal(message.split("\n")[0], "Quiver: the language server was not found (tried quiver.serverPath (/nope/quiver)).");
    assert.match(message, new RegExp(`\\nSuggestion: install it with \`pipx install ${WHEEL}\``));
    assert.match(message, /or clear quiver\.serverPath/);
    assert.doesNotMatch(message, /Set Up/);
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
    const message = probeMessage(resolveServerCommand({}), { kind: "missing", detail: "ENOENT" }, WHEEL) ?? "";
    assert.match(message, /not found \(tried `quiver` on PATH\)/);
    assert.match(message, /\nSuggestion: install it with `pipx install .*quiver\.serverPath/);
  });

  it("names the setting and both versions for a server that is too old, and how to upgrade", () => {
    const server = resolveServerCommand({ pythonPath: "/venv/bin/python" });
    const message = probeMessage(server, { kind: "tooOld", version: "0.0.1" }, WHEEL) ?? "";
    assert.match(message, /quiver\.pythonPath \(\/venv\/bin\/python -m quiver\) is version 0\.0\.1/);
    assert.match(message, new RegExp(`needs ${MIN_SERVER_VERSION.replace(/\./g, "\\.")} or newer`));
    assert.ok(message.includes(`\nSuggestion: upgrade it with \`pipx install --force ${WHEEL}\``), message);
  });

  it("offers to set the extension's own environment up again when it is too old or broken", () => {
    const own = serverCandidates({}, "/s/venv/bin/quiver")[0];
    assert.ok(own !== undefined);
    const tooOld = probeMessage(own, { kind: "tooOld", version: "0.0.1" }, WHEEL) ?? "";
    assert.match(tooOld, /^Quiver: the server in the extension's own environment \(\/s\/venv\/bin\/quiver\) is version 0\.0\.1/);
    assert.match(tooOld, /\nSuggestion: click Set Up Quiver's Server to install the server this extension ships/);
    const broken = probeMessage(own, { kind: "broken", detail: "Traceback" }, WHEEL) ?? "";
    assert.match(broken, /did not start: Traceback\nSuggestion: click Set Up Quiver's Server/);
  });
});

describe("describeCommand", () => {
  it("quotes arguments with spaces", () => {
    const server = resolveServerCommand({ serverPath: "/opt/my tools/quiver" });
    assert.equal(describeCommand(server, serveArgs(server)), '"/opt/my tools/quiver" serve --stdio');
  });
});
