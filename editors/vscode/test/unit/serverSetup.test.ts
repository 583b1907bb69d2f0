// The set-up of the extension's own environment, with a fake `python`
// (../fakes/fakePython.ts: records its arguments, makes the files venv and pip would):
// the steps in order, the wheel it installs, the version it checks, and each
// failure's message with its Suggestion. The real venv and pip run in
// tests/editors/test_install.py.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  SetupError,
  findShippedWheel,
  judgePython,
  privateEnvironment,
  setUpServer,
  setupPython,
  wheelVersion,
} from "../../src/serverSetup";
import { fakePythonCalls, writeFakePython } from "../fakes/fakePython";

let scratch: string;

function fakePython(): string {
  const file = path.join(scratch, "bin", "python3");
  writeFakePython(file);
  return file;
}

describe("privateEnvironment", () => {
  it("is a venv in the storage folder, with its quiver in bin/", () => {
    assert.deepEqual(privateEnvironment("/home/a/.config/Code/User/globalStorage/quiver.quiver", "linux"), {
      dir: "/home/a/.config/Code/User/globalStorage/quiver.quiver/venv",
      python: "/home/a/.config/Code/User/globalStorage/quiver.quiver/venv/bin/python",
      quiver: "/home/a/.config/Code/User/globalStorage/quiver.quiver/venv/bin/quiver",
    });
  });

  it("uses Scripts\\ and .exe on Windows", () => {
    const environment = privateEnvironment("C:\\storage", "win32");
    assert.ok(environment.quiver.endsWith(path.join("venv", "Scripts", "quiver.exe")), environment.quiver);
    assert.ok(environment.python.endsWith(path.join("venv", "Scripts", "python.exe")), environment.python);
  });
});

describe("findShippedWheel", () => {
  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-setup-"));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("finds the wheel in <extension>/server, the newest when there are several", () => {
    const extension = path.join(scratch, "ext-several");
    fs.mkdirSync(path.join(extension, "server"), { recursive: true });
    for (const name of [
      "quiver_lsp-0.9.0-py3-none-any.whl",
      "quiver_lsp-0.10.0-py3-none-any.whl",
      "README.md",
      "other-1.0.0-py3-none-any.whl",
    ]) {
      fs.writeFileSync(path.join(extension, "server", name), "");
    }
    assert.equal(findShippedWheel(extension), path.join(extension, "server", "quiver_lsp-0.10.0-py3-none-any.whl"));
  });

  it("finds none in an extension run from its sources (no server folder)", () => {
    assert.equal(findShippedWheel(path.join(scratch, "no-such-extension")), undefined);
  });

  it("reads the version from the wheel's name", () => {
    assert.equal(wheelVersion("/x/server/quiver_lsp-0.1.0-py3-none-any.whl"), "0.1.0");
    assert.equal(wheelVersion("/x/other.whl"), undefined);
  });
});

describe("setupPython and judgePython", () => {
  it("uses quiver.pythonPath when set, else python3 on PATH", () => {
    assert.equal(setupPython(undefined, "/w", "linux"), "python3");
    assert.equal(setupPython("  ", "/w", "linux"), "python3");
    assert.equal(setupPython(undefined, "/w", "win32"), "python");
    assert.equal(setupPython("${workspaceFolder}/py/bin/python3.12", "/w", "linux"), "/w/py/bin/python3.12");
  });

  it("accepts Python 3.11 and newer", () => {
    assert.deepEqual(judgePython("python3", "3.11.2\n"), { ok: true, version: "3.11.2" });
    assert.deepEqual(judgePython("python3", "3.13.0"), { ok: true, version: "3.13.0" });
  });

  it("refuses an older Python, saying which and what to set", () => {
    const judged = judgePython("python3", "3.9.18\n");
    assert.equal(judged.ok, false);
    assert.equal(
      judged.ok ? "" : judged.message,
      "Quiver: python3 is Python 3.9.18; the server needs Python 3.11 or newer.\n" +
        "Suggestion: install Python 3.11 or newer and set quiver.pythonPath to it (e.g. /usr/bin/python3.12), " +
        "then run Quiver: Set Up Server.",
    );
  });
});

describe("setUpServer with a fake python", { skip: process.platform === "win32" ? "needs /bin/sh" : false }, () => {
  let python: string;
  let log: string;
  let wheel: string;
  let storage: string;

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-setup-"));
    python = fakePython();
    wheel = path.join(scratch, "ext", "server", "quiver_lsp-0.1.0-py3-none-any.whl");
    fs.mkdirSync(path.dirname(wheel), { recursive: true });
    fs.writeFileSync(wheel, "");
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  let run = 0;
  beforeEach(() => {
    run += 1;
    storage = path.join(scratch, `storage-${run}`);
    log = path.join(scratch, `calls-${run}.log`);
  });

  function setUp(env: Record<string, string> = {}, pythonCommand = python) {
    const steps: string[] = [];
    const lines: string[] = [];
    const promise = setUpServer({
      python: pythonCommand,
      environment: privateEnvironment(storage),
      wheel,
      report: { step: (message) => steps.push(message), log: (line) => lines.push(line) },
      env: { ...process.env, FAKE_LOG: log, FAKE_PYTHON_VERSION: "3.12.1", ...env },
    });
    return { promise, steps, lines };
  }

  const calls = (): string[] => fakePythonCalls(log);

  it("checks the Python, makes the venv, installs the shipped wheel into it and checks its quiver", async () => {
    const { promise, steps, lines } = setUp();
    const result = await promise;
    const environment = privateEnvironment(storage);
    assert.deepEqual(result, { quiver: environment.quiver, version: "0.1.0", python: "3.12.1" });
    const made = calls();
    assert.equal(made.length, 3, made.join("\n"));
    assert.match(made[0] ?? "", /^\S+python3 -c /);
    assert.equal(made[1], `${python} -m venv ${environment.dir}`);
    assert.equal(made[2], `${environment.python} -m pip install --disable-pip-version-check --no-input ${wheel}`);
    assert.deepEqual(steps, [
      "checking the Python",
      "creating the environment",
      "installing the server and its dependencies (numpy, numba, onnxruntime, tantivy…)",
      "checking the server",
    ]);
    assert.ok(lines.includes("Successfully installed quiver-lsp-0.1.0"), lines.join("\n"));
    assert.ok(!fs.existsSync(`${environment.dir}.lock`), "the lock is released");
  });

  it("replaces an environment that is there already (an older or broken one)", async () => {
    const environment = privateEnvironment(storage);
    fs.mkdirSync(path.join(environment.dir, "lib"), { recursive: true });
    fs.writeFileSync(path.join(environment.dir, "lib", "stale.txt"), "");
    await setUp().promise;
    assert.ok(!fs.existsSync(path.join(environment.dir, "lib", "stale.txt")));
    assert.ok(fs.existsSync(environment.quiver));
  });

  it("a Python that is not there: says which, and to set quiver.pythonPath", async () => {
    const missing = path.join(scratch, "no-such", "python3");
    await assert.rejects(setUp({}, missing).promise, (error: unknown) => {
      assert.ok(error instanceof SetupError);
      assert.equal(
        error.message.split("\n")[0],
        `Quiver: no Python to set up the server with (tried ${missing}).`,
      );
      assert.match(error.message, /\nSuggestion: install Python 3\.11 or newer and set quiver\.pythonPath to it/);
      return true;
    });
    assert.ok(!fs.existsSync(privateEnvironment(storage).dir));
  });

  it("a Python older than 3.11: stops before making anything", async () => {
    await assert.rejects(setUp({ FAKE_PYTHON_VERSION: "3.10.4" }).promise, /is Python 3\.10\.4; the server needs Python 3\.11 or newer/);
    assert.equal(calls().length, 1);
    assert.ok(!fs.existsSync(privateEnvironment(storage).dir));
  });

  it("venv fails: its error, the python3-venv hint, and nothing left behind", async () => {
    await assert.rejects(setUp({ FAKE_FAIL: "venv" }).promise, (error: unknown) => {
      assert.ok(error instanceof SetupError);
      const [first, suggestion] = error.message.split("\n");
      assert.equal(
        first,
        `Quiver: \`${python} -m venv ${privateEnvironment(storage).dir}\` failed (exit code 1): Error: ensurepip is not available`,
      );
      assert.match(suggestion ?? "", /^Suggestion: .*`sudo apt install python3-venv`.*quiver\.pythonPath/);
      return true;
    });
    assert.ok(!fs.existsSync(privateEnvironment(storage).dir));
  });

  it("pip fails: its last words, where the log is, and nothing left behind", async () => {
    const { promise, lines } = setUp({ FAKE_FAIL: "pip" });
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof SetupError);
      assert.match(
        error.message,
        /^Quiver: installing the server failed \(pip exited with code 1\): ERROR: No matching distribution found for numba\n/,
      );
      assert.match(error.message, /\nSuggestion: pip's messages are in the Quiver output \(Quiver: Show Output\)/);
      return true;
    });
    assert.ok(lines.includes("Collecting numpy"), lines.join("\n"));
    assert.ok(!fs.existsSync(privateEnvironment(storage).dir));
  });

  it("refuses to run while another window sets the same environment up", async () => {
    const environment = privateEnvironment(storage);
    fs.mkdirSync(`${environment.dir}.lock`, { recursive: true });
    await assert.rejects(setUp().promise, /another VS Code window is setting up Quiver's server/);
    assert.deepEqual(calls(), []);
    fs.rmSync(`${environment.dir}.lock`, { recursive: true });
  });

  it("takes over a lock left by a window that died an hour ago", async () => {
    const environment = privateEnvironment(storage);
    fs.mkdirSync(`${environment.dir}.lock`, { recursive: true });
    const anHourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(`${environment.dir}.lock`, anHourAgo, anHourAgo);
    await setUp().promise;
    assert.ok(fs.existsSync(environment.quiver));
  });
});
