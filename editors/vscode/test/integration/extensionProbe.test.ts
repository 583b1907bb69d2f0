/**
 * The extension's bundle, activated on ./fakeVscode (a FAKE of VS Code's API,
 * not VS Code), when the server cannot be used: the notification with its fix
 * (from the `--version` probe that finds the server, or from the version its
 * `initialize` answer names), the buttons' actions, the status bar, and the
 * commands saying the server is not running. Needs no Quiver server: the
 * "servers" here are missing, or a fake whose `initialize` names an old version.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeVscode, ThemeColor, type FakeStatusBarItem } from "./fakeVscode";
import { loadExtension, readManifest, type ExtensionModule } from "./extensionHost";
import { eventually } from "./quiverServer";
import { receivedMethods, writeOldServer } from "../fakes/oldServer";

const TIMEOUT_MS = 15_000;

describe("the extension's bundle on a fake vscode module, with no usable server", { timeout: 120_000 }, () => {
  let scratch: string;
  let fake: FakeVscode;
  let extension: ExtensionModule;
  let context: ReturnType<FakeVscode["extensionContext"]> | undefined;
  const originalPath = process.env.PATH;

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "quiver-vscode-probe-"));
    fs.mkdirSync(path.join(scratch, "workspace"));
    fake = new FakeVscode({ manifest: readManifest(), folders: [path.join(scratch, "workspace")] });
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

  async function activate(): Promise<FakeStatusBarItem> {
    await stop();
    fake.clearRecords();
    context = fake.extensionContext();
    extension.activate(context);
    const item = fake.statusBarItems[0];
    assert.ok(item !== undefined, "no status bar item");
    await eventually("the status bar to show the failure", TIMEOUT_MS, () =>
      Promise.resolve(item.text === "$(error) Quiver" ? true : undefined),
    );
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
    assert.match(error.message, /\nSuggestion: install it with `pip install quiver-lsp`/);
    assert.deepEqual(error.items, ["Open Settings", "Show Output", "Retry"]);
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
    assert.match(error.message, /\nSuggestion: upgrade it with `pip install --upgrade quiver-lsp`/);
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

  it("the bundle used only what the fake provides", () => {
    assert.deepEqual([...fake.missing], []);
  });
});
