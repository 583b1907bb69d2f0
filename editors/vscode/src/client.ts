/**
 * Starts and stops the Quiver language server for this window, and reports
 * its state to the status bar. One server per window serves all workspace folders.
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
  checkServerVersion,
  describeCommand,
  probeMessage,
  resolveServerCommand,
  serveArgs,
  type ServerCommand,
} from "./serverCommand";
import { probeServer } from "./serverProbe";
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

export class QuiverClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly events: ClientEvents,
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
   * Finds the server (the `--version` probe), starts it, and checks the version its
   * `initialize` answer names. Resolves once it answered `initialize`.
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
    const server = resolveServerCommand(
      {
        serverPath: config.get<string>("serverPath", ""),
        pythonPath: config.get<string>("pythonPath", ""),
      },
      workspaceRoot,
    );
    this.events.onPhase("starting");
    if (!(await this.checkServer(server, workspaceRoot))) {
      return;
    }

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
      await this.reportProblem(probeMessage(server, version) ?? version.kind);
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

  /** Runs `--version` to find the server; on failure tells the user what to fix and returns false. */
  private async checkServer(server: ServerCommand, cwd: string | undefined): Promise<boolean> {
    const message = probeMessage(server, await probeServer(server, { cwd }));
    if (message === undefined) {
      return true;
    }
    await this.reportProblem(message);
    return false;
  }

  /** Shows why the server cannot be used, with buttons to fix it, and marks it failed. */
  private async reportProblem(message: string): Promise<void> {
    this.output.appendLine(message);
    this.events.onPhase("failed", message.split("\n")[0]);
    const choice = await vscode.window.showErrorMessage(
      message,
      "Open Settings",
      "Show Output",
      "Retry",
    );
    if (choice === "Open Settings") {
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
