/**
 * The checks the suite runs, in order, inside real VS Code against the real server on a
 * copy of tests/data/polyglot. Each builds on the state the one before left (the
 * server started, an editor open); the runner stops at the first failure.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
// eslint-disable-next-line no-restricted-imports -- this module runs inside VS Code's extension host
import * as vscode from "vscode";
import { MIN_SERVER_VERSION } from "../../../src/serverCommand";
import { OLD_SERVER_VERSION, receivedMethods, writeOldServer } from "../../fakes/oldServer";
import { eventually, hostConfig, ui } from "./ui";

export interface Check {
  name: string;
  /** The check fails when it takes longer. */
  timeoutMs: number;
  run(): Promise<void>;
}

const EXTENSION_ID = "quiver.quiver";
/** The model loads and 4 files are indexed on a loaded 2-core machine well within this. */
const READY_MS = 120_000;
const UI_MS = 15_000;
const READY = "$(check) Quiver";
const FAILED = "$(error) Quiver";
/**
 * What the status bar may show while indexing: the server's progress title
 * ("Indexing", "Updating the index", "Rebuilding the index"), alone, with a
 * percentage, or with its message after a dash, lower-cased; else the counts.
 */
const INDEXING_TEXT =
  /^\$\(sync~spin\) Quiver: (?:(?:Indexing|Updating the index|Rebuilding the index)(?: \d+%| — (?![A-Z][a-z])\S.*)?|[\d,]+\/[\d,]+ files|indexing)$/;
const RESTART_OFFER = "restart the server to apply the changed settings";

const workspace = (): string => hostConfig().workspace;
const file = (relative: string): string => path.join(workspace(), relative);

/** The contributed command ids, from the extension's package.json. */
function contributedCommands(): string[] {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension !== undefined, `${EXTENSION_ID} is not loaded`);
  const manifest = extension.packageJSON as { contributes: { commands: { command: string }[] } };
  return manifest.contributes.commands.map((command) => command.command).sort();
}

/** What Ctrl+T's provider answers: the registered workspace symbol providers, merged by VS Code. */
async function workspaceSymbols(query: string): Promise<vscode.SymbolInformation[]> {
  return (
    (await vscode.commands.executeCommand<vscode.SymbolInformation[]>("vscode.executeWorkspaceSymbolProvider", query)) ?? []
  );
}

async function openAt(relative: string, line: number, character: number): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(file(relative));
  const position = new vscode.Position(line, character);
  return vscode.window.showTextDocument(document, { selection: new vscode.Selection(position, position), preview: false });
}

async function setWorkspaceSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration("quiver").update(key, value, vscode.ConfigurationTarget.Workspace);
}

/**
 * Changes quiver.serverPath in the user settings (it is machine-scoped: VS Code
 * refuses it anywhere else) and takes the restart the extension offers by
 * clicking the notification's button, as a user would.
 */
async function switchServer(serverPath: string): Promise<void> {
  await vscode.commands.executeCommand("notifications.clearAll");
  await vscode.workspace.getConfiguration("quiver").update("serverPath", serverPath, vscode.ConfigurationTarget.Global);
  const offer = await ui("notification", { containing: RESTART_OFFER }, UI_MS);
  assert.deepEqual(offer.buttons, ["Restart"]);
  await ui("clickNotificationButton", { containing: RESTART_OFFER, button: "Restart" }, UI_MS);
}

export const checks: Check[] = [
  {
    name: "the extension activates on start-up and registers its commands",
    timeoutMs: 30_000,
    async run() {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension !== undefined, `${EXTENSION_ID} is not loaded`);
      await eventually("the extension to be active", 20_000, () => (extension.isActive ? true : undefined));
      const registered = new Set(await vscode.commands.getCommands(true));
      const contributed = contributedCommands();
      assert.equal(contributed.length, 8);
      assert.deepEqual(contributed.filter((command) => !registered.has(command)), []);
    },
  },
  {
    name: "the status bar goes from starting through indexing to ready, and its hover shows the index",
    timeoutMs: READY_MS + 20_000,
    async run() {
      const status = await ui("statusBar", { text: READY }, READY_MS);
      assert.equal(status.history[0], "$(loading~spin) Quiver", JSON.stringify(status.history));
      assert.ok(
        status.history.some((text) => text.startsWith("$(sync~spin) Quiver: ")),
        `no indexing state in ${JSON.stringify(status.history)}`,
      );
      assert.equal(status.history[status.history.length - 1], READY);
      console.log(`# status bar texts: ${JSON.stringify(status.history)}`);
      // The progress title and its message read as one phrase ("Indexing — checking
      // files"), not two sentences run together ("Indexing Checking files").
      for (const text of status.history.filter((t) => t.startsWith("$(sync~spin) "))) {
        assert.match(text, INDEXING_TEXT, JSON.stringify(status.history));
      }
      assert.ok(!status.history.includes(FAILED), JSON.stringify(status.history));
      // Something in the editor area makes the screenshot read as VS Code.
      await openAt("config/loader.go", 14, 5);
      const hover = await ui("hoverStatusBar", {}, UI_MS);
      assert.match(hover, /State: ready — Indexed 4 files/);
      assert.match(hover, /Files: 4 of 4 indexed/);
      await ui("screenshot", { name: "vscode-status-bar", area: "statusBarHover" });
      await ui("press", { key: "Escape" });
    },
  },
  {
    name: "Ctrl+T's provider (vscode.executeWorkspaceSymbolProvider) finds a fuzzy name on its line",
    timeoutMs: 20_000,
    async run() {
      const symbols = await workspaceSymbols("swr");
      const first = symbols[0];
      assert.ok(first !== undefined, "no symbol for swr");
      assert.equal(first.name, "send_with_retries");
      assert.equal(first.kind, vscode.SymbolKind.Function);
      assert.equal(first.location.uri.fsPath, file("net/http_client.py"));
      assert.equal(first.location.range.start.line, 17);
    },
  },
  {
    name: "Ctrl+T's provider answers a sentence semantically: with quiver.search.limit 3, the 3 nearest",
    timeoutMs: 40_000,
    async run() {
      // VS Code sorts what the provider answers by name, so the ranking does not show
      // here; a limit of 3 (a live setting: didChangeConfiguration) shows which came first.
      const sentence = "split an identifier into words";
      const names = async (): Promise<string[]> => (await workspaceSymbols(sentence)).map((s) => s.name);
      assert.ok((await names()).length > 3, "all symbols are within the default limit of 50");
      await setWorkspaceSetting("search.limit", 3);
      try {
        const nearest = await eventually("3 answers", 20_000, async () => {
          const found = await names();
          return found.length === 3 ? found : undefined;
        });
        assert.ok(nearest.includes("split_identifier"), JSON.stringify(nearest));
        assert.ok(nearest.every((name) => ["split_identifier", "word_frequencies", "WordTokenizer", "new", "min_length"].includes(name)), JSON.stringify(nearest));
        const symbol = (await workspaceSymbols(sentence)).find((s) => s.name === "split_identifier");
        assert.equal(symbol?.location.uri.fsPath, file("text/tokenizer.rs"));
        assert.equal(symbol?.location.range.start.line, 11);
      } finally {
        await setWorkspaceSetting("search.limit", undefined);
      }
    },
  },
  {
    name: "Ctrl+T in the UI lists fuzzy name matches; VS Code's own name filter hides sentence answers",
    timeoutMs: 40_000,
    async run() {
      // The cursor is on LoadSettings (the check above left loader.go open there).
      await ui("press", { key: "Control+t" });
      const opened = await ui("quickInput", {}, UI_MS);
      assert.equal(opened.value, "#LoadSettings", "Ctrl+T opens Go to Symbol in Workspace with the word at the cursor");
      await ui("fill", { text: "#retr" });
      const fuzzy = await ui("quickInput", { row: "send_with_retries" }, UI_MS);
      const names = fuzzy.rows.map((row) => row.label);
      assert.ok(names.includes("RetryPolicy"), JSON.stringify(fuzzy.rows));
      await ui("screenshot", { name: "vscode-workspace-symbols", area: "quickInput" });
      // The provider answers a sentence (the check above), but VS Code's quick access
      // drops every symbol whose name does not match the typed words fuzzily.
      await ui("fill", { text: "#split an identifier into words" });
      const sentence = await ui("quickInput", { row: "No matching workspace symbols" }, UI_MS);
      assert.equal(sentence.rows.length, 1, JSON.stringify(sentence.rows));
      await ui("press", { key: "Escape" });
      await ui("quickInputClosed", {});
    },
  },
  {
    name: "Semantic Search lists ranked results for a sentence, and Enter opens the first on its line",
    timeoutMs: 40_000,
    async run() {
      await openAt("config/loader.go", 0, 0);
      // The command returns once the picker is shown; typing is the browser's.
      await vscode.commands.executeCommand("quiver.search");
      await ui("quickInput", { title: "Quiver: Semantic Search (hybrid)" }, UI_MS);
      await ui("fill", { text: "retry a failed http request with exponential backoff" });
      const view = await ui("quickInput", { row: "send_with_retries", title: "results in" }, UI_MS);
      assert.match(view.title, /^Quiver: Semantic Search \(hybrid\) · \d+ results? in \d+ ms$/);
      assert.equal(view.rows[0]?.label, "send_with_retries", JSON.stringify(view.rows));
      assert.equal(view.rows[0]?.description, "net/http_client.py:18 · http_client");
      assert.ok(view.rows.length >= 3, `ranked results: ${JSON.stringify(view.rows)}`);
      // The highlighted first row is previewed behind the picker.
      await eventually("the preview of http_client.py", UI_MS, () =>
        vscode.window.activeTextEditor?.document.uri.fsPath === file("net/http_client.py") ? true : undefined,
      );
      await ui("screenshot", { name: "vscode-semantic-search", area: "quickInput" });
      await ui("press", { key: "Enter" });
      await ui("quickInputClosed", {});
      const editor = await eventually("http_client.py opened for editing", UI_MS, () => {
        const active = vscode.window.activeTextEditor;
        return active?.document.uri.fsPath === file("net/http_client.py") && active.selection.start.line === 17
          ? active
          : undefined;
      });
      assert.deepEqual(
        [editor.selection.start.line, editor.selection.start.character, editor.selection.end.character],
        [17, 4, 21],
        "the name `send_with_retries` is selected",
      );
    },
  },
  {
    name: "Find Similar Code at the cursor lists other code than the symbol under it",
    timeoutMs: 40_000,
    async run() {
      await openAt("text/tokenizer.rs", 11, 15); // in `split_identifier`, its `fn` line
      await vscode.commands.executeCommand("quiver.findSimilar");
      const view = await ui("quickInput", { title: "Quiver: code similar to split_identifier" }, UI_MS);
      assert.match(view.title, /^Quiver: code similar to split_identifier \(\d+\)$/);
      assert.ok(view.rows.length > 0);
      assert.ok(!view.rows.some((row) => row.label === "split_identifier"), JSON.stringify(view.rows));
      await ui("press", { key: "Escape" });
      await ui("quickInputClosed", {});
    },
  },
  {
    name: "a changed quiver.exclude reaches the running server, and clearing it too",
    timeoutMs: 60_000,
    async run() {
      const names = async (query: string): Promise<string[]> => (await workspaceSymbols(query)).map((s) => s.name);
      assert.ok((await names("WordTokenizer")).includes("WordTokenizer"));
      await setWorkspaceSetting("exclude", ["text/**"]);
      await eventually("text/tokenizer.rs to leave the index", 25_000, async () =>
        (await names("WordTokenizer")).includes("WordTokenizer") ? undefined : true,
      );
      assert.ok((await names("swr")).includes("send_with_retries"), "net/ is still indexed");
      await setWorkspaceSetting("exclude", undefined);
      await eventually("text/tokenizer.rs to come back", 25_000, async () =>
        (await names("WordTokenizer")).includes("WordTokenizer") ? true : undefined,
      );
    },
  },
  {
    name: "a missing server: an error that says what to fix, and Open Settings opens Quiver's settings",
    timeoutMs: 60_000,
    async run() {
      const missing = path.join(hostConfig().scratch, "no-such-dir", "quiver");
      await switchServer(missing);
      const error = await ui("notification", { containing: "was not found" }, UI_MS);
      assert.ok(error.message.startsWith(`Quiver: the language server was not found (tried quiver.serverPath (${missing})).`), error.message);
      assert.match(error.message, /Suggestion: install it with `(make dist && )?pipx install /);
      assert.deepEqual(error.buttons, ["Open Settings", "Show Output", "Retry"]);
      await ui("statusBar", { text: FAILED }, UI_MS);
      await ui("screenshot", { name: "vscode-server-missing", area: "notification" });
      await ui("clickNotificationButton", { containing: "was not found", button: "Open Settings" }, UI_MS);
      await eventually("the Settings editor", UI_MS, () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.label === "Settings" ? true : undefined,
      );
      await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
    },
  },
  {
    name: "a too-old server: an error with its version and how to upgrade; Show Output shows it; the server is stopped",
    timeoutMs: 60_000,
    async run() {
      // The fake answers `--version` (the probe) and `initialize` with serverInfo.version 0.0.9.
      const old = path.join(hostConfig().scratch, "old", "quiver");
      const received = path.join(hostConfig().scratch, "old", "received.log");
      writeOldServer(old, received);
      await switchServer(old);
      const error = await ui("notification", { containing: `is version ${OLD_SERVER_VERSION}` }, UI_MS);
      assert.ok(
        error.message.startsWith(
          `Quiver: the server quiver.serverPath (${old}) is version ${OLD_SERVER_VERSION}; ` +
            `this extension needs ${MIN_SERVER_VERSION} or newer.`,
        ),
        error.message,
      );
      assert.match(error.message, /Suggestion: upgrade it with `(make dist && )?pipx install --force /);
      assert.deepEqual(error.buttons, ["Open Settings", "Show Output", "Retry"]);
      await ui("statusBar", { text: FAILED }, UI_MS);
      // The version came from the initialize answer; the client then stopped that server.
      await eventually("the old server to be stopped", UI_MS, () =>
        receivedMethods(received).includes("exit") ? true : undefined,
      );
      assert.deepEqual(
        receivedMethods(received).filter((method) => ["initialize", "shutdown", "exit"].includes(method)),
        ["initialize", "shutdown", "exit"],
      );
      // VS Code lists the visible output channel among the visible text editors.
      const outputShown = (): boolean =>
        vscode.window.visibleTextEditors.some(
          (editor) =>
            editor.document.uri.scheme === "output" && editor.document.getText().includes(`is version ${OLD_SERVER_VERSION}`),
        );
      assert.ok(!outputShown(), "the output channel is shown before Show Output was clicked");
      await ui("clickNotificationButton", { containing: `is version ${OLD_SERVER_VERSION}`, button: "Show Output" }, UI_MS);
      await eventually("the Quiver output channel, with the message, to be shown", UI_MS, () =>
        outputShown() ? true : undefined,
      );
    },
  },
  {
    name: "back to the real server: restarting brings the status bar to ready and Ctrl+T answers",
    timeoutMs: READY_MS + 20_000,
    async run() {
      await switchServer(hostConfig().quiver);
      await ui("statusBar", { text: READY }, READY_MS);
      assert.equal((await workspaceSymbols("swr"))[0]?.name, "send_with_retries");
    },
  },
  {
    name: "a repository's .vscode/settings.json cannot choose the server: VS Code ignores quiver.serverPath there",
    timeoutMs: 40_000,
    async run() {
      // Last: VS Code reports the ignored key as changed, so the extension offers a
      // restart for it, and that stray offer upset the notification checks after it.
      const elsewhere = path.join(hostConfig().scratch, "from-the-repository", "quiver");
      // The API refuses to write it there (the setting is machine-scoped)...
      await assert.rejects(setWorkspaceSetting("serverPath", elsewhere), /can be written only into User settings/);
      // ...and a file that names it anyway is read for its other settings only.
      const folder = file(".vscode");
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(
        path.join(folder, "settings.json"),
        JSON.stringify({ "quiver.serverPath": elsewhere, "quiver.pythonPath": elsewhere, "quiver.search.limit": 7 }),
      );
      const quiver = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration("quiver");
      try {
        await eventually("VS Code to read .vscode/settings.json", UI_MS, () => (quiver().get("search.limit") === 7 ? true : undefined));
        assert.equal(quiver().get("serverPath"), hostConfig().quiver);
        assert.equal(quiver().get("pythonPath"), "");
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
      await eventually("the limit back to its default", UI_MS, () => (quiver().get("search.limit") === 50 ? true : undefined));
    },
  },
];
