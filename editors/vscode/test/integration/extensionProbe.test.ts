/**
 * The extension's bundle, activated on ./fakeVscode (a FAKE of VS Code's API,
 * not VS Code), when the server cannot be used: the notification with its fix
 * (from the `--version` probe that finds the server, or from the version its
 * `initialize` answer names), the buttons' actions, the status bar, and the
 * commands saying the server is not running; and, with no server anywhere, the
 * offer to set one up, accepted: the set-up (with ../fakes/fakePython.ts for
 * python3, offline) and the start of the server it installed. Needs no Quiver
 * server: the "servers" here are missing, or a fake whose `initialize` names a version.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeVscode, ThemeColor, type FakeStatusBarItem } from "./fakeVscode";
import { loadExtension, readManifest, type ExtensionModule } from "./extensionHost";
import { eventually } from "./quiverServer";
import { fakePythonCalls, writeFakePython } from "../fakes/fakePython";
import { oldServerScript, receivedMethods, writeOldServer } from "../fakes/oldServer";

const TIMEOUT_MS = 15_000;

describe("the extension's bundle on a fake vscode module, with no usable server", { timeout: 120_000 }, () => {
  let scratch: string;
  let fake: FakeVscode;
  let extension: ExtensionModule;
  let context: ReturnType<FakeVscode["extensionContext"]> | undefined;
  let wheel: string;
  let storage: string;
  const originalPath = process.env.PATH;

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-vscode-probe-"));
    fs.mkdirSync(path.join(scratch, "workspace"));
    // An installed extension: the wheel `make dist` puts in the .vsix, and a storage folder.
    const extensionPath = path.join(scratch, "extension");
    wheel = path.join(extensionPath, "server", "quiver_lsp-0.1.0-py3-none-any.whl");
    fs.mkdirSync(path.dirname(wheel), { recursive: true });
    fs.writeFileSync(wheel, "");
    storage = path.join(scratch, "global-storage");
    fake = new FakeVscode({
      manifest: readManifest(),
      folders: [path.join(scratch, "workspace")],
      extensionPath,
      globalStorage: storage,
    });
    extension = await loadExtension(fake);
  });

  after(async () => {
    await stop();
    process.env.PATH = originalPath;
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** deactivate(), then dispose the subscriptions, as VS Code does. */
  async function stop(): Promise<void> {
    await extension?.deactivate();
    for (const disposable of context?.subscriptions ?? []) {
      disposable.dispose();
    }
    context = undefined;
  }

  /** Activates the extension again; waits for the status bar's error unless `waitForError` is false. */
  async function activate(waitForError = true): Promise<FakeStatusBarItem> {
    await stop();
    fake.clearRecords();
    context = fake.extensionContext();
    extension.activate(context);
    const item = fake.statusBarItems[0];
    assert.ok(item !== undefined, "no status bar item");
    if (waitForError) {
      await eventually("the status bar to show the failure", TIMEOUT_MS, () =>
        Promise.resolve(item.text === "$(error) Quiver" ? true : undefined),
      );
    }
    return item;
  }

  it("a missing quiver.serverPath: an error with the fix, Open Settings opens Quiver's settings", async () => {
    const missing = path.join(scratch, "no-such-dir", "quiver");
    fake.updateSetting("quiver.serverPath", missing);
    fake.answerMessage = (message) => (message.level === "error" ? "Open Settings" : undefined);
    const item = await activate();
    const error = fake.messages[0];
    assert.ok(error !== undefined, "no notification");
    assert.equal(error.level, "error");
    assert.equal(
      error.message.split("\n")[0],
      `Quiver: the language server was not found (tried quiver.serverPath (${missing})).`,
    );
    assert.ok(error.message.includes(`\nSuggestion: install it with \`pipx install ${wheel}\``), error.message);
    assert.deepEqual(error.items, ["Open Settings", "Show Output", "Retry"], "no set-up: quiver.serverPath wins over it");
    await eventually("Open Settings to run", TIMEOUT_MS, () =>
      Promise.resolve(fake.executedCommands.find((c) => c.command === "workbench.action.openSettings")),
    );
    assert.deepEqual(fake.executedCommands.find((c) => c.command === "workbench.action.openSettings")?.args, ["quiver."]);
    assert.ok(item.backgroundColor instanceof ThemeColor);
    assert.equal(item.backgroundColor.id, "statusBarItem.warningBackground");
    assert.match(item.tooltip ?? "", /^Quiver: the server is not running\. Quiver: the language server was not found/);
    assert.ok(fake.outputChannels[0]?.contents().includes(error.message), "the message is in the output channel too");
  });

  it("commands say the server is not running, and open no picker", async () => {
    fake.answerMessage = () => undefined;
    const shown = fake.messages.length;
    await fake.commands.get("quiver.search")?.();
    assert.equal(fake.quickPicks.length, 0);
    const warning = await eventually("the warning", TIMEOUT_MS, () => Promise.resolve(fake.messages[shown]));
    assert.equal(warning.level, "warning");
    assert.equal(warning.message, "Quiver: the language server is not running.");
    assert.deepEqual(warning.items, ["Restart Server", "Show Output"]);
  });

  it("`quiver` on PATH that is too old: says which version and how to upgrade; Show Output shows the log", async () => {
    const bin = path.join(scratch, "bin");
    const received = path.join(scratch, "received.log");
    writeOldServer(path.join(bin, "quiver"), received);
    process.env.PATH = `${bin}${path.delimiter}${originalPath ?? ""}`;
    fake.updateSetting("quiver.serverPath", "");
    fake.answerMessage = (message) => (message.level === "error" ? "Show Output" : undefined);
    await activate();
    const error = fake.messages[0];
    assert.ok(error !== undefined);
    assert.equal(
      error.message.split("\n")[0],
      "Quiver: the server `quiver` on PATH is version 0.0.9; this extension needs 0.1.0 or newer.",
    );
    assert.ok(error.message.includes(`\nSuggestion: upgrade it with \`pipx install --force ${wheel}\``), error.message);
    await eventually("the output channel to be shown", TIMEOUT_MS, () =>
      Promise.resolve((fake.outputChannels[0]?.shown ?? 0) > 0 ? true : undefined),
    );
    // The version came from the initialize answer; the client then stopped that server.
    const methods = (): string[] => receivedMethods(received);
    await eventually("the old server to be stopped", TIMEOUT_MS, () =>
      Promise.resolve(methods().includes("exit") ? true : undefined),
    );
    assert.deepEqual(
      methods().filter((method) => ["initialize", "shutdown", "exit"].includes(method)),
      ["initialize", "shutdown", "exit"],
    );
  });

  it("no server anywhere: offers the set-up with the exact command; accepted, it makes the own environment with python3 and starts its server", async () => {
    // PATH: a fake python3 and the shell tools it uses; no quiver anywhere.
    const bin = path.join(scratch, "bin-set-up");
    writeFakePython(path.join(bin, "python3"));
    const calls = path.join(scratch, "python-calls.log");
    const received = path.join(scratch, "installed-server.log");
    const server = path.join(scratch, "installed-server.js");
    fs.writeFileSync(server, oldServerScript(received, "0.1.0"), { mode: 0o755 });
    process.env.PATH = [bin, "/usr/bin", "/bin"].join(path.delimiter);
    Object.assign(process.env, { FAKE_LOG: calls, FAKE_PYTHON_VERSION: "3.12.1", FAKE_SERVER: server });
    fake.updateSetting("quiver.serverPath", "");
    fake.answerMessage = (message) => (message.items.includes("Set Up Quiver's Server") ? "Set Up Quiver's Server" : undefined);
    const item = await activate(false);
    const offer = await eventually("the offer", TIMEOUT_MS, () => Promise.resolve(fake.messages[0]));
    const environment = path.join(storage, "venv");
    assert.equal(
      offer.message.split("\n")[0],
      "Quiver: the language server was not found (tried the extension's own environment and `quiver` on PATH).",
    );
    assert.ok(offer.message.includes(`or run \`pipx install ${wheel}\` and click Retry.`), offer.message);
    assert.deepEqual(offer.items, ["Set Up Quiver's Server", "Show Output", "Retry"]);
    assert.ok(
      fake.outputChannels[0]?.contents().includes(`Looked for the server: ${environment}/bin/quiver, quiver`),
      "the output channel names the paths tried",
    );

    // Accepted: the set-up runs with its progress, then the server starts from the environment.
    await eventually("the installed server to answer initialize", TIMEOUT_MS, () =>
      Promise.resolve(receivedMethods(received).includes("initialized") ? true : undefined),
    );
    const running = `Quiver server 0.1.0 (${environment}/bin/quiver)`;
    await eventually("the client to run the installed server", TIMEOUT_MS, () =>
      Promise.resolve(fake.outputChannels[0]?.contents().includes(running) === true ? true : undefined),
    );
    assert.notEqual(item.text, "$(error) Quiver");
    assert.deepEqual(
      fakePythonCalls(calls).map((call) => call.replace(/ -c .*/, " -c …")),
      [
        `${path.join(bin, "python3")} -c …`,
        `${path.join(bin, "python3")} -m venv ${environment}`,
        `${environment}/bin/python -m pip install --disable-pip-version-check --no-input ${wheel}`,
      ],
    );
    const progress = fake.progress.find((p) => p.title === "Quiver: setting up the server");
    assert.ok(progress !== undefined, JSON.stringify(fake.progress));
    assert.equal(progress.messages.length, 4, JSON.stringify(progress.messages));
    const log = fake.outputChannels[0]?.contents() ?? "";
    assert.ok(log.includes("Successfully installed quiver-lsp-0.1.0"), "pip's output is in the output channel");
    assert.ok(log.includes(`Quiver's server 0.1.0 is set up in ${environment} (Python 3.12.1).`), log);
    assert.ok(log.includes(`Starting ${environment}/bin/quiver serve --stdio`), log);
    assert.equal(fake.messages.filter((m) => m.level === "error").length, 1, JSON.stringify(fake.messages));
  });

  it("the bundle used only what the fake provides", () => {
    assert.deepEqual([...fake.missing], []);
  });
});
