/**
 * The extension's entry point: registers the commands, the status bar item
 * and starts the Quiver language server for the open workspace.
 */
import * as vscode from "vscode";
import { QuiverClient } from "./client";
import { ReindexRequest, StatusRequest } from "./protocol";
import { showSearch, showSimilar } from "./search";
import { StatusBar } from "./statusBar";

let quiver: QuiverClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Quiver");
  const statusBar = new StatusBar();
  const client = new QuiverClient(
    output,
    {
      onPhase: (phase, failure) => statusBar.phase(phase, failure),
      onStatus: (status) => statusBar.status(status),
      onProgress: (token, value) => statusBar.progress(token, value),
    },
    // The wheel the .vsix ships is in <extension>/server; the own environment goes to global storage.
    { extensionDir: context.extensionPath, storageDir: context.globalStorageUri.fsPath },
  );
  quiver = client;
  context.subscriptions.push(output, statusBar, client);

  const register = (command: string, handler: () => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(command, handler));
  };

  register("quiver.search", () => {
    const running = client.running();
    if (running === undefined) {
      return;
    }
    // A selection on one line is a natural first query ("what else does this?").
    const editor = vscode.window.activeTextEditor;
    const selected = editor?.document.getText(editor.selection) ?? "";
    const initial = selected.includes("\n") ? "" : selected.trim();
    showSearch(running, context.workspaceState, initial);
  });

  register("quiver.findSimilar", async () => {
    const running = client.running();
    if (running !== undefined) {
      await showSimilar(running);
    }
  });

  const reindex = async (rebuild: boolean): Promise<void> => {
    const running = client.running();
    if (running === undefined) {
      return;
    }
    try {
      const answer = await running.sendRequest(ReindexRequest, { rebuild });
      const what = rebuild ? "Rebuilding the index from scratch" : "Reindexing changed files";
      void vscode.window.setStatusBarMessage(
        answer.started ? `Quiver: ${what}…` : "Quiver: an indexing run is already in progress.",
        4000,
      );
    } catch (error) {
      void vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
    }
  };
  register("quiver.reindex", () => reindex(false));
  register("quiver.rebuildIndex", async () => {
    const choice = await vscode.window.showWarningMessage(
      "Quiver: discard the index and embed every symbol again? This can take minutes on a large workspace.",
      { modal: true },
      "Rebuild",
    );
    if (choice === "Rebuild") {
      await reindex(true);
    }
  });

  register("quiver.showOutput", () => output.show());
  register("quiver.restartServer", () => client.restart());
  register("quiver.setUpServer", () => client.setUp());

  register("quiver.showStatus", async () => {
    const running = client.running();
    if (running !== undefined) {
      try {
        statusBar.status(await running.sendRequest(StatusRequest, {}));
      } catch (error) {
        output.appendLine(`quiver/status failed: ${String(error)}`);
      }
    }
    const choice = await vscode.window.showInformationMessage(
      "Quiver index status",
      { modal: true, detail: statusBar.details() },
      "Reindex Workspace",
      "Show Output",
    );
    if (choice === "Reindex Workspace") {
      await reindex(false);
    } else if (choice === "Show Output") {
      output.show();
    }
  });

  // Adding the first folder to an empty window restarts the extension host, so
  // starting once here covers every workspace; later folders reach the running
  // server through workspace/didChangeWorkspaceFolders.
  void client.start();
}

export async function deactivate(): Promise<void> {
  await quiver?.stop();
  quiver = undefined;
}
