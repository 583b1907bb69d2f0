/**
 * Finds, starts and stops the Quiver language server for this window, and reports
 * its state to the status bar; when no server can be found, offers to set one up
 * in the extension's own environment (serverSetup.ts). One server per window
 * serves all workspace folders.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import {
  StatusChangedNotification,
  StatusRequest,
  maxSearchLimit,
  type InitializationOptions,
  type StatusResponse,
} from "./protocol";
import {
  SET_UP_BUTTON,
  checkServerVersion,
  describeCommand,
  notFoundMessage,
  probeMessage,
  serveArgs,
  serverCandidates,
  type ServerCommand,
} from "./serverCommand";
import { findServer, probeServer } from "./serverProbe";
import { SetupError, findShippedWheel, privateEnvironment, setUpServer, setupPython } from "./serverSetup";
import { changedSettings, initializationOptions, type QuiverSettings } from "./settings";
import type { ProgressValue, ServerPhase } from "./status";

/** Languages the server parses; other documents are not synchronised to it. */
const LANGUAGES = [
  "python",
  "rust",
  "go",
  "typescript",
  "typescriptreact",
  "javascript",
  "javascriptreact",
  "java",
  "c",
  "cpp",
  "csharp",
  "ruby",
  "php",
];

/** Settings that need a server restart to take effect. */
const RESTART_SETTINGS = ["quiver.serverPath", "quiver.pythonPath", "quiver.cacheDir"];
/** Settings the running server takes through `workspace/didChangeConfiguration`. */
const LIVE_SETTINGS = ["quiver.exclude", "quiver.search.limit"];

export interface ClientEvents {
  onPhase(phase: ServerPhase, failure?: string): void;
  onStatus(status: StatusResponse): void;
  onProgress(token: string | number, value: ProgressValue): void;
}

/** The `quiver.*` settings the server cares about. */
function readSettings(config: vscode.WorkspaceConfiguration): QuiverSettings {
  return {
    cacheDir: config.get<string>("cacheDir", ""),
    exclude: config.get<string[]>("exclude", []),
    searchLimit: config.get<number>("search.limit", 50),
  };
}

/** Reads the `quiver.*` settings into the server's `initializationOptions`. */
function readInitializationOptions(config: vscode.WorkspaceConfiguration): InitializationOptions {
  return initializationOptions(readSettings(config));
}

/** Where the extension is installed and where it may keep files (its global storage). */
export interface ExtensionPaths {
  /** `context.extensionPath`: the shipped wheel is in its `server/` folder. */
  extensionDir: string;
  /** `context.globalStorageUri.fsPath`: the extension's own environment goes there. */
  storageDir: string | undefined;
}

export class QuiverClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private settingUp = false;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly events: ClientEvents,
    private readonly paths: ExtensionPaths,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (LIVE_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
          void this.pushSettings();
        }
        if (RESTART_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
          void this.offerRestart();
        }
      }),
    );
  }

  /** The running client, or undefined (with a message to the user) when there is none. */
  running(): LanguageClient | undefined {
    if (this.client !== undefined && this.client.state === State.Running) {
      return this.client;
    }
    if (this.client !== undefined && this.client.state === State.Starting) {
      void vscode.window.showInformationMessage("Quiver: the server is still starting; try again in a moment.");
      return undefined;
    }
    if ((vscode.workspace.workspaceFolders ?? []).length === 0) {
      void vscode.window.showInformationMessage("Quiver: open a folder first; Quiver indexes workspace folders.");
      return undefined;
    }
    void vscode.window
      .showWarningMessage(
        "Quiver: the language server is not running.",
        "Restart Server",
        "Show Output",
      )
      .then((choice) => {
        if (choice === "Restart Server") {
          void this.restart();
        } else if (choice === "Show Output") {
          this.output.show();
        }
      });
    return undefined;
  }

  /**
   * Finds the server (the `--version` probe of each candidate: quiver.serverPath, else
   * quiver.pythonPath, the extension's own environment and `quiver` on PATH), starts
   * it, and checks the version its `initialize` answer names. Resolves once it
   * answered `initialize`, or once the user answered the notification that says why not.
   */
  async start(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      // Nothing to index; commands say so when used.
      this.events.onPhase("stopped");
      return;
    }
    const config = vscode.workspace.getConfiguration("quiver");
    const workspaceRoot = folders[0]?.uri.fsPath;
    const settings = {
      serverPath: config.get<string>("serverPath", ""),
      pythonPath: config.get<string>("pythonPath", ""),
    };
    const environment = this.paths.storageDir === undefined ? undefined : privateEnvironment(this.paths.storageDir);
    this.events.onPhase("starting");
    const wheel = findShippedWheel(this.paths.extensionDir);
    const search = await findServer(
      serverCandidates(settings, environment?.quiver, workspaceRoot),
      (candidate) => probeServer(candidate, { cwd: workspaceRoot }),
    );
    if (search.kind === "notFound") {
      this.output.appendLine(`Looked for the server: ${search.tried.map((c) => c.command).join(", ")}`);
      const canSetUp = wheel !== undefined && environment !== undefined && settings.serverPath.trim() === "";
      await this.reportProblem(notFoundMessage(search.tried, { wheel, canSetUp }), canSetUp);
      return;
    }
    if (search.kind === "broken") {
      await this.reportProblem(
        probeMessage(search.server, search.result, wheel) ?? search.result.kind,
        this.canSetUpAgain(search.server, wheel),
      );
      return;
    }
    const server = search.server;

    const serverOptions: ServerOptions = {
      command: server.command,
      args: serveArgs(server),
      options: { cwd: workspaceRoot },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
      initializationOptions: readInitializationOptions(config),
      outputChannel: this.output,
      // No `synchronize.configurationSection`: it would push the whole `quiver`
      // section, the extension's own settings included, which the server
      // reports as unknown options (and an empty cacheDir as an error);
      // pushSettings() sends the server's keys only. (The server pulls
      // `workspace/configuration` only after an empty push, which this never sends.)
      middleware: {
        // Observe indexing progress for the status bar, and let VS Code show it too.
        handleWorkDoneProgress: (token, params, next) => {
          this.events.onProgress(token, params);
          next(token, params);
        },
      },
    };
    const client = new LanguageClient("quiver", "Quiver", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped) {
        this.events.onPhase("stopped");
      }
    });
    this.output.appendLine(`Starting ${describeCommand(server, serveArgs(server))}`);
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.events.onPhase("failed", message);
      this.output.appendLine(`Quiver server failed to start: ${message}`);
      return;
    }
    const version = checkServerVersion(client.initializeResult?.serverInfo);
    if (version.kind !== "ok") {
      this.client = undefined;
      await client.stop().catch(() => undefined);
      await this.reportProblem(probeMessage(server, version, wheel) ?? version.kind, this.canSetUpAgain(server, wheel));
      return;
    }
    this.output.appendLine(`Quiver server ${version.version} (${server.command})`);
    this.events.onPhase("running");
    client.onNotification(StatusChangedNotification, (status) => this.events.onStatus(status));
    try {
      this.events.onStatus(await client.sendRequest(StatusRequest, {}));
    } catch (error) {
      this.output.appendLine(`quiver/status failed: ${String(error)}`);
    }
  }

  /** Sends the changed live settings to the running server. */
  private async pushSettings(): Promise<void> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      return;
    }
    const settings = changedSettings(
      readSettings(vscode.workspace.getConfiguration("quiver")),
      maxSearchLimit(client.initializeResult),
    );
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings });
    } catch (error) {
      this.output.appendLine(`workspace/didChangeConfiguration failed: ${String(error)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined && client.needsStop()) {
      await client.stop();
    }
    this.events.onPhase("stopped");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  /**
   * Sets up the extension's own environment (a venv in its global storage with the
   * wheel the .vsix ships, dependencies from the package index; a minute or two),
   * with a progress notification and pip's output in the output channel, then
   * starts the server from it. Stops a running server first: the environment may be
   * the one it runs from. Tells the user what failed and what to do.
   */
  async setUp(): Promise<void> {
    if (this.settingUp) {
      void vscode.window.showInformationMessage("Quiver: the server is being set up already; see its progress.");
      return;
    }
    const wheel = findShippedWheel(this.paths.extensionDir);
    const storageDir = this.paths.storageDir;
    if (wheel === undefined || storageDir === undefined) {
      await this.reportProblem(
        "Quiver: this copy of the extension ships no server to set up (it runs from its sources).\n" +
          "Suggestion: run `make dist` in the Quiver checkout and install dist/quiver-<version>.vsix, or " +
          "install the server with `make dist && pipx install dist/quiver_lsp-*-py3-none-any.whl` there.",
      );
      return;
    }
    const environment = privateEnvironment(storageDir);
    const workspaceRoot = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const python = setupPython(vscode.workspace.getConfiguration("quiver").get<string>("pythonPath", ""), workspaceRoot);
    this.settingUp = true;
    try {
      await this.stop();
      this.events.onPhase("starting");
      this.output.appendLine(`Setting up Quiver's server in ${environment.dir} with ${python}, from ${wheel}`);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "Quiver: setting up the server" },
        (progress) =>
          setUpServer({
            python,
            environment,
            wheel,
            report: {
              step: (message) => {
                progress.report({ message });
                this.output.appendLine(`# ${message}`);
              },
              log: (line) => this.output.appendLine(line),
            },
          }),
      );
      this.output.appendLine(`Quiver's server ${result.version} is set up in ${environment.dir} (Python ${result.python}).`);
    } catch (error) {
      await this.reportProblem(
        error instanceof SetupError
          ? error.message
          : `Quiver: setting up the server failed: ${String(error)}\nSuggestion: see Quiver: Show Output.`,
      );
      return;
    } finally {
      this.settingUp = false;
    }
    await this.start();
  }

  /** Whether the set-up can replace this server: it is the extension's own, and a wheel is shipped. */
  private canSetUpAgain(server: ServerCommand, wheel: string | undefined): boolean {
    return server.source === "privateEnvironment" && wheel !== undefined;
  }

  /**
   * Shows why the server cannot be used, with buttons to fix it (the set-up first
   * when `offerSetUp`), and marks it failed. Resolves once the user answered.
   */
  private async reportProblem(message: string, offerSetUp = false): Promise<void> {
    this.output.appendLine(message);
    this.events.onPhase("failed", message.split("\n")[0]);
    // Three buttons at most: a fourth makes VS Code cut every label short.
    const buttons = offerSetUp ? [SET_UP_BUTTON, "Show Output", "Retry"] : ["Open Settings", "Show Output", "Retry"];
    const choice = await vscode.window.showErrorMessage(message, ...buttons);
    if (choice === SET_UP_BUTTON) {
      void this.setUp();
    } else if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "quiver.");
    } else if (choice === "Show Output") {
      this.output.show();
    } else if (choice === "Retry") {
      void this.start();
    }
  }

  private async offerRestart(): Promise<void> {
    const choice = await vscode.window.showInformationMessage(
      "Quiver: restart the server to apply the changed settings?",
      "Restart",
    );
    if (choice === "Restart") {
      await this.restart();
    }
  }
}
