/**
 * The extension's own code against the real `quiver serve --stdio`: the
 * bundle (dist/extension.js) is activated in plain Node with `require("vscode")`
 * answered by ./fakeVscode — a FAKE of VS Code's API, not VS Code, which
 * cannot be downloaded here. So activate(), the probe that finds the server, the
 * LanguageClient wiring of src/client.ts (vscode-languageclient/node starting
 * the server, initialize, progress middleware), the status bar and the
 * commands' QuickPick logic all run for real; what VS Code would draw, and
 * how it would react, is the fake's (see its header for the simplifications).
 * Skipped, with the reason, while no server can be run.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CancellationTokenSource,
  FakeVscode,
  Location,
  Position,
  SymbolInformation,
  SymbolKind,
  ThemeColor,
  Uri,
  type FakeQuickPick,
  type FakeStatusBarItem,
  type FakeTextEditor,
} from "./fakeVscode";
import { loadExtension, readManifest, type ExtensionModule } from "./extensionHost";
import { eventually, fileUri, makeWorkspace, quiverBinary, unavailableReason } from "./quiverServer";

const binary = quiverBinary();
const skip = unavailableReason(binary);

const READY_TIMEOUT_MS = Number(process.env.QUIVER_READY_TIMEOUT_MS ?? 120_000);
const UI_TIMEOUT_MS = 15_000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Process ids of this process's children whose command line mentions `serve --stdio`. */
function serverChildren(): number[] {
  let listing = "";
  try {
    listing = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there is no child
  }
  return listing
    .split("\n")
    .filter((line) => line.includes("serve --stdio"))
    .map((line) => Number.parseInt(line.trim(), 10));
}

describe("the extension's bundle, activated on a fake vscode module, against the real server", { skip, timeout: 300_000 }, () => {
  const manifest = readManifest();
  let workspace: ReturnType<typeof makeWorkspace>;
  let fake: FakeVscode;
  let extension: ExtensionModule;
  let context: ReturnType<FakeVscode["extensionContext"]>;
  let item: FakeStatusBarItem;
  let http: string;
  let words: string;

  before(async () => {
    workspace = makeWorkspace();
    http = path.join(workspace.root, "net", "http.py");
    words = path.join(workspace.root, "text", "words.py");
    // The server inherits this environment: keep its HOME and its default
    // cache ($XDG_CACHE_HOME/quiver) in the scratch folder.
    process.env.HOME = path.dirname(workspace.root);
    process.env.XDG_CACHE_HOME = path.join(path.dirname(workspace.root), "xdg-cache");
    delete process.env.QUIVER_CACHE_DIR;
    // Every setting at the manifest's default but the server's path, as for a
    // user who installed the extension and pointed it at a checkout's server.
    fake = new FakeVscode({ manifest, folders: [workspace.root], settings: { "quiver.serverPath": binary } });
    extension = await loadExtension(fake);
    context = fake.extensionContext();
    extension.activate(context);
    const created = fake.statusBarItems[0];
    assert.ok(created !== undefined, "activate() created no status bar item");
    item = created;
    try {
      await eventually("the status bar to show the index as ready", READY_TIMEOUT_MS, () => {
        if (item.text === "$(error) Quiver") {
          throw new Error("the status bar shows the server failed");
        }
        return Promise.resolve(item.text === "$(check) Quiver" ? true : undefined);
      });
    } catch (error) {
      throw new Error(`${String(error)}\n${diagnostics()}`);
    }
  });

  /** What the fake saw, for a failure message. */
  function diagnostics(): string {
    return [
      `status bar texts: ${JSON.stringify(item?.texts)}`,
      `tooltip: ${item?.tooltip}`,
      `messages: ${JSON.stringify(fake.messages)}`,
      `missing from the fake: ${JSON.stringify([...fake.missing])}`,
      ...fake.outputChannels.map((channel) => `--- output channel ${channel.name} ---\n${channel.contents()}`),
    ].join("\n");
  }

  after(async () => {
    if (extension !== undefined) {
      await extension.deactivate().catch(() => undefined);
    }
    for (const pid of serverChildren()) {
      process.kill(pid);
    }
    workspace?.cleanup();
  });

  it("registers every command package.json contributes, and nothing else", () => {
    const contributed = manifest.contributes.commands.map((command) => command.command).sort();
    assert.deepEqual([...fake.commands.keys()].sort(), contributed);
    assert.ok(context.subscriptions.length >= contributed.length + 3, "commands, output, status bar, client are disposables");
  });

  it("found the server, started `serverPath serve --stdio` in the workspace, and read its version from initialize", () => {
    const output = fake.outputChannels.find((channel) => channel.name === "Quiver");
    assert.ok(output !== undefined, "no Quiver output channel");
    const text = output.contents();
    assert.match(text, new RegExp(`^Quiver server \\d+\\.\\d+\\.\\d+ \\(${escapeRegExp(binary)}\\)$`, "m"));
    assert.ok(text.includes(`Starting ${binary} serve --stdio\n`), text);
    assert.equal(serverChildren().length, 1, "one server process, a child of the extension host");
  });

  it("went through starting, indexing progress ($/progress via the client middleware) and ready on the status bar", () => {
    assert.equal(item.command, "quiver.showStatus");
    assert.ok(item.visible);
    assert.equal(item.texts[0], "$(loading~spin) Quiver");
    assert.ok(
      item.texts.some((text) => text.startsWith("$(sync~spin) Quiver: Indexing")),
      `status bar texts: ${JSON.stringify(item.texts)}`,
    );
    assert.equal(item.texts[item.texts.length - 1], "$(check) Quiver");
    assert.match(item.tooltip ?? "", /^State: ready — Indexed 4 files/m);
    const defaultCache = path.join(process.env.XDG_CACHE_HOME ?? "", "quiver");
    assert.ok((item.tooltip ?? "").includes(`\nCache: ${defaultCache} (`), item.tooltip);
    assert.equal(item.backgroundColor, undefined);
    // The client's own progress UI went to window.withProgress, as in VS Code.
    assert.ok(fake.progress.some((p) => p.title === "Indexing"), JSON.stringify(fake.progress));
  });

  it("sent the server only options it knows: no warning or error was shown", () => {
    assert.deepEqual(
      fake.messages.filter((message) => message.level !== "information"),
      [],
      "the server's window/showMessage warnings and errors reach the user as notifications",
    );
  });

  it("answers Ctrl+T through the workspace symbol provider the client registered, converted to VS Code symbols", async () => {
    assert.equal(fake.workspaceSymbolProviders.length, 1, "the client registered one workspace symbol provider");
    const provider = fake.workspaceSymbolProviders[0];
    assert.ok(provider !== undefined);
    const symbols = (await provider.provideWorkspaceSymbols("retry_with_backoff", new CancellationTokenSource().token)) as unknown[];
    const first = symbols[0];
    assert.ok(first instanceof SymbolInformation, `not a SymbolInformation: ${JSON.stringify(first)}`);
    assert.equal(first.name, "retry_with_backoff");
    assert.equal(first.kind, SymbolKind.Function);
    assert.ok(first.location instanceof Location);
    assert.ok(first.location.uri instanceof Uri);
    assert.equal(first.location.uri.fsPath, http);
    assert.equal(first.location.range.start.line, 5);
  });

  /** Runs quiver.search the way the command palette does; returns the picker it opened. */
  async function openSearch(): Promise<FakeQuickPick> {
    const before = fake.quickPicks.length;
    await fake.commands.get("quiver.search")?.();
    const picker = fake.quickPicks[before];
    assert.ok(picker !== undefined, "quiver.search opened no QuickPick");
    assert.ok(picker.visible);
    return picker;
  }

  function resultsOf(picker: FakeQuickPick, first: string): Promise<FakeQuickPick["items"]> {
    return eventually(`the picker to list ${first} first`, UI_TIMEOUT_MS, () =>
      Promise.resolve(!picker.busy && picker.items[0]?.label.endsWith(` ${first}`) ? picker.items : undefined),
    );
  }

  it("Semantic Search: typing a description lists the function, highlighting previews it, Enter opens it", async () => {
    fake.activeTextEditor = undefined;
    const picker = await openSearch();
    assert.equal(picker.title, "Quiver: Semantic Search (hybrid)");
    picker.type("send an http request again after it fails");
    const items = await resultsOf(picker, "retry_with_backoff");
    const top = items[0];
    assert.ok(top !== undefined);
    assert.equal(top.label, "$(symbol-function) retry_with_backoff");
    assert.equal(top.description, "net/http.py:6 · http");
    assert.equal(top.alwaysShow, true, "VS Code must not filter the server's ranking away");
    assert.match(picker.title ?? "", /^Quiver: Semantic Search \(hybrid\) · \d+ results? in \d+ ms$/);

    const shown = fake.shownDocuments.length;
    picker.highlight(top);
    const preview = await eventually("a preview", UI_TIMEOUT_MS, () => Promise.resolve(fake.shownDocuments[shown]));
    assert.equal(preview.uri, fileUri(http));
    assert.equal(preview.options?.preview, true);
    assert.equal(preview.options?.preserveFocus, true);

    picker.accept(top);
    const opened = await eventually("the file to open", UI_TIMEOUT_MS, () => Promise.resolve(fake.shownDocuments[shown + 1]));
    assert.equal(opened.uri, fileUri(http));
    assert.equal(opened.options?.preview, false);
    assert.deepEqual(opened.options?.selection?.start, new Position(5, 4), "the cursor on the name");
    assert.equal(picker.visible, false);
    assert.equal(picker.disposed, true);
    assert.equal((fake.activeTextEditor as FakeTextEditor | undefined)?.document.uri.fsPath, http);
  });

  it("Semantic Search: the title bar button switches the mode, re-runs the query and is remembered", async () => {
    const picker = await openSearch();
    picker.type("WordIndex");
    await resultsOf(picker, "WordIndex");
    picker.clickButton(0); // hybrid → semantic
    assert.match(picker.title ?? "", /\(semantic\)/);
    picker.clickButton(0); // semantic → text
    await eventually("a text-mode answer", UI_TIMEOUT_MS, () =>
      Promise.resolve(/^Quiver: Semantic Search \(text\) · /.test(picker.title ?? "") && !picker.busy ? true : undefined),
    );
    assert.ok(picker.items[0]?.label.endsWith(" WordIndex"), JSON.stringify(picker.items));
    assert.equal(context.workspaceState.get("quiver.search.mode"), "text");
    const shown = fake.shownDocuments.length;
    picker.escape();
    assert.equal(picker.disposed, true);
    // Escape goes back to the editor that was active before (http.py, opened above).
    const restored = await eventually("the previous editor back", UI_TIMEOUT_MS, () => Promise.resolve(fake.shownDocuments[shown]));
    assert.equal(restored.uri, fileUri(http));
    await context.workspaceState.update("quiver.search.mode", "hybrid");
  });

  it("Semantic Search: a one-line selection in the editor is the first query", async () => {
    // `class WordIndex:` is line 18 of words.py (0-based 17); select the name.
    fake.openEditor(words, new Position(17, 6), new Position(17, 15));
    const picker = await openSearch();
    assert.equal(picker.value, "WordIndex");
    await resultsOf(picker, "WordIndex");
    picker.escape();
  });

  it("Find Similar Code lists other code than the function under the cursor", async () => {
    fake.openEditor(words, new Position(12, 6)); // on `count_words` in its `def` line
    const before = fake.quickPicks.length;
    await fake.commands.get("quiver.findSimilar")?.();
    const picker = fake.quickPicks[before];
    assert.ok(picker !== undefined, "no picker");
    assert.match(picker.title ?? "", /^Quiver: code similar to count_words \(\d+\)$/);
    assert.ok(picker.items.length > 0);
    assert.ok(!picker.items.some((entry) => entry.label.endsWith(" count_words")), JSON.stringify(picker.items));
    assert.ok(fake.progress.some((p) => p.title === "Quiver: finding similar code"));
    picker.escape();
  });

  it("Show Index Status asks quiver/status and shows the details", async () => {
    const shown = fake.messages.length;
    await fake.commands.get("quiver.showStatus")?.();
    const message = fake.messages[shown];
    assert.ok(message !== undefined, "no message");
    assert.equal(message.message, "Quiver index status");
    assert.equal(message.options?.modal, true);
    assert.match(message.options?.detail ?? "", /^State: ready/m);
    assert.match(message.options?.detail ?? "", /^Files: 4 of 4 indexed$/m);
    assert.match(message.options?.detail ?? "", /^Role: writer/m);
    assert.deepEqual(message.items, ["Reindex Workspace", "Show Output"]);
  });

  /** Names the client's workspace symbol provider returns for `query`. */
  async function symbolNames(query: string): Promise<string[]> {
    const provider = fake.workspaceSymbolProviders[0];
    assert.ok(provider !== undefined);
    const symbols = (await provider.provideWorkspaceSymbols(query, new CancellationTokenSource().token)) as
      | SymbolInformation[]
      | null;
    return (symbols ?? []).map((symbol) => symbol.name);
  }

  it("a changed quiver.exclude reaches the running server (didChangeConfiguration), and clearing it too", async () => {
    const shown = fake.messages.length;
    fake.updateSetting("quiver.exclude", ["text/**"]);
    await eventually("words.py to leave the index", UI_TIMEOUT_MS, async () =>
      (await symbolNames("WordIndex")).includes("WordIndex") ? undefined : true,
    );
    assert.ok((await symbolNames("retry_with_backoff")).includes("retry_with_backoff"), "net/ is still indexed");
    fake.updateSetting("quiver.exclude", []);
    await eventually("words.py to come back", UI_TIMEOUT_MS, async () =>
      (await symbolNames("WordIndex")).includes("WordIndex") ? true : undefined,
    );
    assert.deepEqual(fake.messages.slice(shown), [], "no restart offered, no complaint from the server");
    await eventually("ready again", READY_TIMEOUT_MS, () => Promise.resolve(item.text === "$(check) Quiver" ? true : undefined));
  });

  it("a changed quiver.serverPath offers a restart instead", async () => {
    const shown = fake.messages.length;
    fake.updateSetting("quiver.serverPath", binary);
    const offer = await eventually("the restart offer", UI_TIMEOUT_MS, () => Promise.resolve(fake.messages[shown]));
    assert.equal(offer.message, "Quiver: restart the server to apply the changed settings?");
    assert.deepEqual(offer.items, ["Restart"]);
  });

  it("Reindex Workspace starts quiver/reindex and the status bar comes back to ready", async () => {
    const seen = item.texts.length;
    await fake.commands.get("quiver.reindex")?.();
    assert.equal(fake.statusBarMessages[fake.statusBarMessages.length - 1], "Quiver: Reindexing changed files…");
    await eventually("ready again", READY_TIMEOUT_MS, () =>
      Promise.resolve(item.texts.length > seen && item.text === "$(check) Quiver" ? true : undefined),
    );
  });

  it("the bundle used only what the fake provides", () => {
    assert.deepEqual([...fake.missing], []);
  });

  it("deactivate() stops the server: the process exits and the status bar says stopped", async () => {
    await extension.deactivate();
    assert.equal(item.text, "$(circle-slash) Quiver");
    assert.ok(!(item.backgroundColor instanceof ThemeColor));
    await eventually("the server process to exit", 10_000, () =>
      Promise.resolve(serverChildren().length === 0 ? true : undefined),
    );
  });
});
