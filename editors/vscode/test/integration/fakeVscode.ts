/**
 * A FAKE of the `vscode` module — not VS Code, which cannot be downloaded
 * here — just large enough for the extension's bundle (dist/extension.js,
 * the file the .vsix ships) and the vscode-languageclient inside it to run in
 * plain Node against the real `quiver serve`.
 *
 * What is real in a test that uses it: the extension's code (activate, the
 * commands, the QuickPick logic, the status bar, the version probe), the
 * LanguageClient (process start, initialize, capabilities, progress, the
 * protocol ↔ code converters) and the server. What is fake: everything VS
 * Code would draw or decide. Each member below records what the extension did
 * with it (`FakeVscode` fields) and does nothing else; the user's actions
 * (typing in a picker, clicking a button, answering a message) are methods the
 * test calls. Known simplifications, each a place where real VS Code may
 * behave differently:
 *   - configuration: the manifest's defaults plus the test's values; no
 *     user/workspace layers, no `inspect()`;
 *   - documents: opened from disk by showTextDocument; no document events
 *     are ever fired (no didOpen/didChange reaches the server from here);
 *   - QuickPick: setting `items` does not move the active item (VS Code makes
 *     the first item active); `highlight()` does that explicitly;
 *   - Uri: file URIs only, as Node's pathToFileURL encodes them;
 *   - languages: only the providers the client registers are kept, never
 *     called by anything but the test;
 *   - anything not implemented is recorded in `missing` when the bundle
 *     reads it (the test asserts that stays empty), and the classes that
 *     only matter to features Quiver does not use throw when constructed.
 * No `vscode` import: this file is what `require("vscode")` returns.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Listener<T> = (event: T) => unknown;
export type Event<T> = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const item of items) {
        item.dispose();
      }
    });
  }

  private disposed = false;

  constructor(private readonly callOnDispose: () => unknown) {}

  dispose(): void {
    if (!this.disposed) {
      this.disposed = true;
      this.callOnDispose();
    }
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];

  readonly event: Event<T> = (listener, thisArgs, disposables) => {
    const bound: Listener<T> = (event) => listener.call(thisArgs, event);
    this.listeners.push(bound);
    const disposable = new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== bound);
    });
    disposables?.push(disposable);
    return disposable;
  };

  fire(event: T): void {
    for (const listener of [...this.listeners]) {
      listener(event);
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}

export interface CancellationToken {
  isCancellationRequested: boolean;
  onCancellationRequested: Event<void>;
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token: CancellationToken = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };

  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export class CancellationError extends Error {
  constructor() {
    super("Canceled");
    this.name = "Canceled";
  }
}

export class Uri {
  static file(fsPath: string): Uri {
    return new Uri("file", "", path.resolve(fsPath), "", "");
  }

  static parse(value: string): Uri {
    const url = new URL(value);
    const scheme = url.protocol.replace(/:$/, "");
    const uriPath = scheme === "file" ? fileURLToPath(url) : decodeURIComponent(url.pathname);
    return new Uri(scheme, url.host, uriPath, url.search.replace(/^\?/, ""), url.hash.replace(/^#/, ""));
  }

  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}

  get fsPath(): string {
    return this.path;
  }

  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, this.query, this.fragment);
  }

  toString(): string {
    if (this.scheme !== "file") {
      throw new Error(`fake vscode: only file URIs are supported, not ${this.scheme}:`);
    }
    return pathToFileURL(this.path).toString();
  }

  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path, external: this.toString() };
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}

  isEqual(other: Position): boolean {
    return this.line === other.line && this.character === other.character;
  }

  isBefore(other: Position): boolean {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;

  constructor(startLine: number | Position, startCharacter: number | Position, endLine?: number, endCharacter?: number) {
    if (startLine instanceof Position && startCharacter instanceof Position) {
      [this.start, this.end] = [startLine, startCharacter];
    } else if (typeof startLine === "number" && typeof startCharacter === "number") {
      this.start = new Position(startLine, startCharacter);
      this.end = new Position(endLine ?? startLine, endCharacter ?? startCharacter);
    } else {
      throw new Error("fake vscode: Range(line, character, line, character) or Range(Position, Position)");
    }
    if (this.end.isBefore(this.start)) {
      [this.start, this.end] = [this.end, this.start];
    }
  }

  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }

  get isSingleLine(): boolean {
    return this.start.line === this.end.line;
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range,
  ) {}
}

/** VS Code's SymbolKind: LSP's SymbolKind minus one. */
export enum SymbolKind {
  File = 0, Module, Namespace, Package, Class, Method, Property, Field, Constructor, Enum, Interface,
  Function, Variable, Constant, String, Number, Boolean, Array, Object, Key, Null, EnumMember,
  Struct, Event, Operator, TypeParameter,
}

export enum SymbolTag {
  Deprecated = 1,
}

export class SymbolInformation {
  tags?: SymbolTag[];

  constructor(
    readonly name: string,
    readonly kind: SymbolKind,
    readonly containerName: string,
    readonly location: Location,
  ) {
    if (!(location instanceof Location)) {
      throw new Error("fake vscode: SymbolInformation(name, kind, containerName, location) only");
    }
  }
}

/** Hierarchical code action kinds (`refactor.extract`); the client maps the LSP ones at start. */
export class CodeActionKind {
  static readonly Empty = new CodeActionKind("");
  static readonly QuickFix = new CodeActionKind("quickfix");
  static readonly Refactor = new CodeActionKind("refactor");
  static readonly RefactorExtract = new CodeActionKind("refactor.extract");
  static readonly RefactorInline = new CodeActionKind("refactor.inline");
  static readonly RefactorMove = new CodeActionKind("refactor.move");
  static readonly RefactorRewrite = new CodeActionKind("refactor.rewrite");
  static readonly Source = new CodeActionKind("source");
  static readonly SourceOrganizeImports = new CodeActionKind("source.organizeImports");
  static readonly SourceFixAll = new CodeActionKind("source.fixAll");
  static readonly Notebook = new CodeActionKind("notebook");

  private constructor(readonly value: string) {}

  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value === "" ? part : `${this.value}.${part}`);
  }

  contains(other: CodeActionKind): boolean {
    return this.value === "" || other.value === this.value || other.value.startsWith(`${this.value}.`);
  }

  intersects(other: CodeActionKind): boolean {
    return this.contains(other) || other.contains(this);
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum TextEditorRevealType {
  Default = 0,
  InCenter = 1,
  InCenterIfOutsideViewport = 2,
  AtTop = 3,
}

export enum NotebookCellKind {
  Markup = 1,
  Code = 2,
}

/**
 * Base classes vscode-languageclient extends when its module loads (its
 * Protocol* wrappers) but that only features Quiver does not offer construct.
 */
function unusedClass(name: string): new (...args: unknown[]) => object {
  return class {
    constructor() {
      throw new Error(`fake vscode: ${name} is not part of the fake (a feature Quiver does not use was reached)`);
    }
  };
}

// ---------------------------------------------------------------------------
// What the extension sees of the editor: documents, editors, pickers, items

const LANGUAGE_IDS: Record<string, string> = {
  ".py": "python", ".rs": "rust", ".go": "go", ".ts": "typescript", ".js": "javascript", ".java": "java",
};

export class FakeTextDocument {
  readonly uri: Uri;
  readonly fileName: string;
  readonly languageId: string;
  readonly version = 1;
  readonly isDirty = false;
  readonly isClosed = false;
  readonly isUntitled = false;
  private readonly lines: string[];

  constructor(file: string) {
    this.uri = Uri.file(file);
    this.fileName = this.uri.fsPath;
    this.languageId = LANGUAGE_IDS[path.extname(file)] ?? "plaintext";
    this.lines = fs.readFileSync(file, "utf8").split("\n");
  }

  get lineCount(): number {
    return this.lines.length;
  }

  getText(range?: Range): string {
    if (range === undefined) {
      return this.lines.join("\n");
    }
    const { start, end } = range;
    if (start.line === end.line) {
      return (this.lines[start.line] ?? "").slice(start.character, end.character);
    }
    const first = (this.lines[start.line] ?? "").slice(start.character);
    const middle = this.lines.slice(start.line + 1, end.line);
    const last = (this.lines[end.line] ?? "").slice(0, end.character);
    return [first, ...middle, last].join("\n");
  }

  getWordRangeAtPosition(position: Position): Range | undefined {
    const line = this.lines[position.line] ?? "";
    for (const match of line.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
      const from = match.index;
      const to = from + match[0].length;
      if (from <= position.character && position.character <= to) {
        return new Range(position.line, from, position.line, to);
      }
    }
    return undefined;
  }
}

export class FakeTextEditor {
  readonly viewColumn = 1;
  readonly revealed: { range: Range; type?: TextEditorRevealType }[] = [];

  constructor(
    readonly document: FakeTextDocument,
    public selection: Selection,
  ) {}

  get selections(): Selection[] {
    return [this.selection];
  }

  revealRange(range: Range, type?: TextEditorRevealType): void {
    this.revealed.push({ range, type });
  }
}

export interface QuickPickItemLike {
  label: string;
  description?: string;
  detail?: string;
  alwaysShow?: boolean;
}

export class FakeQuickPick<T extends QuickPickItemLike = QuickPickItemLike> {
  value = "";
  placeholder: string | undefined;
  title: string | undefined;
  busy = false;
  items: readonly T[] = [];
  activeItems: readonly T[] = [];
  selectedItems: readonly T[] = [];
  buttons: readonly { tooltip?: string; iconPath?: unknown }[] = [];
  matchOnDescription = false;
  matchOnDetail = false;
  visible = false;
  disposed = false;

  private readonly valueChanged = new EventEmitter<string>();
  private readonly accepted = new EventEmitter<void>();
  private readonly hidden = new EventEmitter<void>();
  private readonly activeChanged = new EventEmitter<readonly T[]>();
  private readonly selectionChanged = new EventEmitter<readonly T[]>();
  private readonly buttonTriggered = new EventEmitter<{ tooltip?: string }>();
  readonly onDidChangeValue = this.valueChanged.event;
  readonly onDidAccept = this.accepted.event;
  readonly onDidHide = this.hidden.event;
  readonly onDidChangeActive = this.activeChanged.event;
  readonly onDidChangeSelection = this.selectionChanged.event;
  readonly onDidTriggerButton = this.buttonTriggered.event;

  show(): void {
    this.visible = true;
  }

  hide(): void {
    if (this.visible) {
      this.visible = false;
      this.hidden.fire();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.visible = false;
  }

  // The user's side.

  /** The user types `text` into the input box (VS Code fires onDidChangeValue). */
  type(text: string): void {
    this.value = text;
    this.valueChanged.fire(text);
  }

  /** The user moves the highlight to `item`. */
  highlight(item: T): void {
    this.activeItems = [item];
    this.activeChanged.fire(this.activeItems);
  }

  /** The user presses Enter on `item` (moving the highlight there first if needed). */
  accept(item: T): void {
    if (this.activeItems[0] !== item) {
      this.highlight(item);
    }
    this.selectedItems = [item];
    this.selectionChanged.fire(this.selectedItems);
    this.accepted.fire();
  }

  /** The user clicks the title bar button `index`. */
  clickButton(index: number): void {
    const button = this.buttons[index];
    if (button === undefined) {
      throw new Error(`no button ${index}`);
    }
    this.buttonTriggered.fire(button);
  }

  /** The user presses Escape. */
  escape(): void {
    this.hide();
  }
}

export class FakeStatusBarItem {
  /** Every text the item showed, in order. */
  readonly texts: string[] = [];
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  disposed = false;
  private current = "";

  constructor(
    readonly id: string,
    readonly alignment: StatusBarAlignment,
    readonly priority: number,
  ) {}

  get text(): string {
    return this.current;
  }

  set text(value: string) {
    this.current = value;
    if (this.texts[this.texts.length - 1] !== value) {
      this.texts.push(value);
    }
  }

  show(): void {
    this.visible = true;
  }

  hide(): void {
    this.visible = false;
  }

  dispose(): void {
    this.disposed = true;
  }
}

export class FakeOutputChannel {
  readonly text: string[] = [];
  shown = 0;

  constructor(readonly name: string) {}

  append(value: string): void {
    this.text.push(value);
  }

  appendLine(value: string): void {
    this.text.push(`${value}\n`);
  }

  replace(value: string): void {
    this.text.splice(0, this.text.length, value);
  }

  clear(): void {
    this.text.splice(0);
  }

  show(): void {
    this.shown++;
  }

  hide(): void {}

  dispose(): void {}

  /** Everything written, as one string. */
  contents(): string {
    return this.text.join("");
  }
}

export interface ShownMessage {
  level: "information" | "warning" | "error";
  message: string;
  options?: { modal?: boolean; detail?: string };
  items: string[];
}

export interface FakeOptions {
  /** The extension's package.json: the settings' defaults come from it. */
  manifest: { contributes: { configuration: { properties: Record<string, { default?: unknown }> } } };
  /** Absolute paths of the workspace folders. */
  folders: string[];
  /** Settings over the manifest's defaults, by full key (`quiver.serverPath`). */
  settings?: Record<string, unknown>;
  /** `context.extensionPath` (default: editors/vscode). */
  extensionPath?: string;
  /** `context.globalStorageUri`'s folder (default: one in the OS temp folder, never created here). */
  globalStorage?: string;
}

/** The fake `vscode` module and the record of what was done with it. */
export class FakeVscode {
  readonly outputChannels: FakeOutputChannel[] = [];
  readonly statusBarItems: FakeStatusBarItem[] = [];
  readonly quickPicks: FakeQuickPick[] = [];
  readonly messages: ShownMessage[] = [];
  readonly statusBarMessages: string[] = [];
  readonly shownDocuments: { uri: string; options?: { preview?: boolean; preserveFocus?: boolean; selection?: Range } }[] = [];
  /** Each withProgress: its title, and the messages it reported, in order. */
  readonly progress: { title?: string; location: unknown; messages: string[] }[] = [];
  readonly commands = new Map<string, (...args: unknown[]) => unknown>();
  readonly executedCommands: { command: string; args: unknown[] }[] = [];
  readonly workspaceSymbolProviders: {
    provideWorkspaceSymbols(query: string, token: CancellationToken): unknown;
  }[] = [];
  readonly fileWatchers: unknown[] = [];
  /** Members of the fake the bundle read but that the fake does not have. */
  readonly missing = new Set<string>();
  /** How the "user" answers a message: the item to pick, or undefined (dismissed). */
  answerMessage: (message: ShownMessage) => string | undefined = () => undefined;
  activeTextEditor: FakeTextEditor | undefined;

  private readonly settings = new Map<string, unknown>();
  private readonly configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
  readonly api: Record<string, unknown>;

  private readonly extensionPath: string;
  private readonly globalStorage: string;

  constructor(options: FakeOptions) {
    // Compiled to out/test/integration: editors/vscode is three levels up.
    this.extensionPath = options.extensionPath ?? path.resolve(__dirname, "..", "..", "..");
    this.globalStorage = options.globalStorage ?? path.join(os.tmpdir(), `quiver-fake-global-storage-${process.pid}`);
    for (const [key, spec] of Object.entries(options.manifest.contributes.configuration.properties)) {
      this.settings.set(key, spec.default);
    }
    for (const [key, value] of Object.entries(options.settings ?? {})) {
      this.settings.set(key, value);
    }
    const folders = options.folders.map((folder, index) => ({
      uri: Uri.file(folder),
      name: path.basename(folder),
      index,
    }));
    this.api = this.build(folders);
  }

  /** Forgets what was recorded so far (between two activations in one process). */
  clearRecords(): void {
    for (const list of [
      this.outputChannels, this.statusBarItems, this.quickPicks, this.messages, this.statusBarMessages,
      this.shownDocuments, this.progress, this.executedCommands, this.workspaceSymbolProviders, this.fileWatchers,
    ] as unknown[][]) {
      list.splice(0);
    }
  }

  /** Sets a setting the way the Settings editor would, firing onDidChangeConfiguration. */
  updateSetting(key: string, value: unknown): void {
    this.settings.set(key, value);
    this.configurationChanged.fire({
      affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`),
    });
  }

  /** Opens `file` in an editor with the cursor (or a selection) at the given 0-based positions. */
  openEditor(file: string, anchor: Position, active: Position = anchor): FakeTextEditor {
    const editor = new FakeTextEditor(new FakeTextDocument(file), new Selection(anchor, active));
    this.activeTextEditor = editor;
    return editor;
  }

  /** A fake ExtensionContext: subscriptions, in-memory states, where the extension is and may store files. */
  extensionContext(): {
    subscriptions: { dispose(): unknown }[];
    workspaceState: Memento;
    globalState: Memento;
    extensionPath: string;
    globalStorageUri: Uri;
  } {
    return {
      subscriptions: [],
      workspaceState: new Memento(),
      globalState: new Memento(),
      extensionPath: this.extensionPath,
      globalStorageUri: Uri.file(this.globalStorage),
    };
  }

  private configuration(section: string | undefined): Record<string, unknown> {
    const prefix = section === undefined || section === "" ? "" : `${section}.`;
    const read = (key: string): unknown => {
      const full = prefix + key;
      if (this.settings.has(full)) {
        return this.settings.get(full);
      }
      // A section (`quiver`, `search`): the object of the settings under it.
      const nested: Record<string, unknown> = {};
      let found = false;
      for (const [name, value] of this.settings) {
        if (name.startsWith(`${full}.`)) {
          found = true;
          let target = nested;
          const parts = name.slice(full.length + 1).split(".");
          parts.slice(0, -1).forEach((part) => {
            target[part] ??= {};
            target = target[part] as Record<string, unknown>;
          });
          target[parts[parts.length - 1] ?? ""] = value;
        }
      }
      return found ? nested : undefined;
    };
    return {
      get: (key: string, defaultValue?: unknown) => read(key) ?? defaultValue,
      has: (key: string) => read(key) !== undefined,
      update: (key: string, value: unknown) => {
        this.updateSetting(prefix + key, value);
        return Promise.resolve();
      },
    };
  }

  private message(level: ShownMessage["level"]) {
    return (message: string, ...rest: unknown[]): Promise<string | undefined> => {
      let options: ShownMessage["options"];
      const items: string[] = [];
      for (const item of rest) {
        if (typeof item === "string") {
          items.push(item);
        } else if (typeof item === "object" && item !== null) {
          options = item;
        }
      }
      const shown: ShownMessage = { level, message, options, items };
      this.messages.push(shown);
      return Promise.resolve(this.answerMessage(shown));
    };
  }

  private build(folders: { uri: Uri; name: string; index: number }[]): Record<string, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters below read the live instance
    const fake = this;
    const never = <T>(): Event<T> => new EventEmitter<T>().event;
    const window = {
      createOutputChannel: (name: string) => {
        const channel = new FakeOutputChannel(name);
        this.outputChannels.push(channel);
        return channel;
      },
      createStatusBarItem: (id: string, alignment: StatusBarAlignment, priority: number) => {
        const item = new FakeStatusBarItem(id, alignment, priority);
        this.statusBarItems.push(item);
        return item;
      },
      createQuickPick: () => {
        const picker = new FakeQuickPick();
        this.quickPicks.push(picker);
        return picker;
      },
      showInformationMessage: this.message("information"),
      showWarningMessage: this.message("warning"),
      showErrorMessage: this.message("error"),
      setStatusBarMessage: (text: string) => {
        this.statusBarMessages.push(text);
        return new Disposable(() => undefined);
      },
      showTextDocument: (target: Uri | FakeTextDocument, options?: { preview?: boolean; preserveFocus?: boolean; selection?: Range }) => {
        const document = target instanceof Uri ? new FakeTextDocument(target.fsPath) : target;
        this.shownDocuments.push({ uri: document.uri.toString(), options });
        const at = options?.selection?.start ?? new Position(0, 0);
        const editor = new FakeTextEditor(document, new Selection(at, options?.selection?.end ?? at));
        if (options?.preserveFocus !== true) {
          this.activeTextEditor = editor;
        }
        return Promise.resolve(editor);
      },
      withProgress: <R>(
        options: { location: unknown; title?: string },
        task: (progress: { report(value: unknown): void }, token: CancellationToken) => PromiseLike<R>,
      ) => {
        const shown = { title: options.title, location: options.location, messages: [] as string[] };
        this.progress.push(shown);
        const report = (value: { message?: string }): void => {
          if (value.message !== undefined) {
            shown.messages.push(value.message);
          }
        };
        return task({ report }, new CancellationTokenSource().token);
      },
      get activeTextEditor() {
        return fake.activeTextEditor;
      },
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: never<unknown>(),
      onDidChangeVisibleTextEditors: never<unknown>(),
      tabGroups: { all: [], onDidChangeTabs: never<unknown>() },
    };
    const workspace = {
      workspaceFolders: folders,
      name: folders[0]?.name,
      getConfiguration: (section?: string) => this.configuration(section),
      onDidChangeConfiguration: this.configurationChanged.event,
      getWorkspaceFolder: (uri: Uri) => folders.find((folder) => uri.fsPath.startsWith(folder.uri.fsPath + path.sep)),
      textDocuments: [],
      notebookDocuments: [],
      onDidOpenTextDocument: never<unknown>(),
      onDidCloseTextDocument: never<unknown>(),
      onDidChangeTextDocument: never<unknown>(),
      onDidSaveTextDocument: never<unknown>(),
      onWillSaveTextDocument: never<unknown>(),
      onDidOpenNotebookDocument: never<unknown>(),
      onDidCloseNotebookDocument: never<unknown>(),
      onDidChangeNotebookDocument: never<unknown>(),
      onDidSaveNotebookDocument: never<unknown>(),
      onDidChangeWorkspaceFolders: never<unknown>(),
      onDidCreateFiles: never<unknown>(),
      onDidRenameFiles: never<unknown>(),
      onDidDeleteFiles: never<unknown>(),
      onWillCreateFiles: never<unknown>(),
      onWillRenameFiles: never<unknown>(),
      onWillDeleteFiles: never<unknown>(),
      createFileSystemWatcher: (pattern: unknown) => {
        this.fileWatchers.push(pattern);
        return {
          onDidCreate: never<unknown>(),
          onDidChange: never<unknown>(),
          onDidDelete: never<unknown>(),
          dispose: () => undefined,
        };
      },
    };
    const languages = {
      match: (selector: { language?: string; scheme?: string }[], document: FakeTextDocument) =>
        selector.some(
          (filter) =>
            (filter.language === undefined || filter.language === document.languageId) &&
            (filter.scheme === undefined || filter.scheme === document.uri.scheme),
        )
          ? 10
          : 0,
      registerWorkspaceSymbolProvider: (provider: FakeVscode["workspaceSymbolProviders"][number]) => {
        this.workspaceSymbolProviders.push(provider);
        return new Disposable(() => undefined);
      },
      registerDocumentSymbolProvider: () => new Disposable(() => undefined),
      createDiagnosticCollection: (name?: string) => ({
        name,
        set: () => undefined,
        delete: () => undefined,
        clear: () => undefined,
        forEach: () => undefined,
        get: () => undefined,
        has: () => false,
        dispose: () => undefined,
      }),
    };
    const commands = {
      registerCommand: (command: string, handler: (...args: unknown[]) => unknown) => {
        if (this.commands.has(command)) {
          throw new Error(`fake vscode: command ${command} registered twice`);
        }
        this.commands.set(command, handler);
        return new Disposable(() => this.commands.delete(command));
      },
      executeCommand: (command: string, ...args: unknown[]) => {
        this.executedCommands.push({ command, args });
        const handler = this.commands.get(command);
        return Promise.resolve(handler?.(...args));
      },
    };
    const env = {
      appName: "fake vscode (tests)",
      appRoot: "",
      language: "en",
      machineId: "fake",
      sessionId: "fake",
      uiKind: 1,
      openExternal: () => Promise.resolve(false),
    };
    const api: Record<string, unknown> = {
      version: "1.82.0",
      window: this.strict("window", window),
      workspace: this.strict("workspace", workspace),
      languages: this.strict("languages", languages),
      commands: this.strict("commands", commands),
      env: this.strict("env", env),
      Disposable,
      EventEmitter,
      CancellationTokenSource,
      CancellationError,
      Uri,
      Position,
      Range,
      Selection,
      Location,
      SymbolKind,
      SymbolTag,
      SymbolInformation,
      CodeActionKind,
      ThemeColor,
      ThemeIcon,
      StatusBarAlignment,
      ProgressLocation,
      TextEditorRevealType,
      NotebookCellKind,
    };
    for (const name of [
      "CallHierarchyItem", "CodeAction", "CodeLens", "CompletionItem", "Diagnostic", "DocumentLink",
      "InlayHint", "TypeHierarchyItem", "TabInputText", "TabInputTextDiff", "TabInputCustom",
      "TabInputNotebook", "TabInputNotebookDiff",
    ]) {
      api[name] = unusedClass(name);
    }
    return this.strict("vscode", api);
  }

  /** Wraps a namespace so that reading a member it lacks is recorded in `missing`. */
  private strict<T extends object>(name: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        if (typeof property === "string" && !(property in object) && property !== "then" && property !== "__esModule") {
          this.missing.add(`${name}.${property}`);
        }
        return Reflect.get(object, property, receiver) as unknown;
      },
    });
  }
}

export class Memento {
  private readonly values = new Map<string, unknown>();

  keys(): readonly string[] {
    return [...this.values.keys()];
  }

  get<T>(key: string, defaultValue?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : defaultValue;
  }

  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}
