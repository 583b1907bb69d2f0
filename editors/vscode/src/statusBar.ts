/**
 * The status bar item: index state and progress, click for details.
 * All wording comes from ./status (unit-tested); this only draws it.
 */
import * as vscode from "vscode";
import {
  initialStatus,
  statusBarText,
  statusDetails,
  statusTooltip,
  withPhase,
  withProgress,
  withStatus,
  type ProgressValue,
  type ServerPhase,
  type StatusModel,
} from "./status";
import type { StatusResponse } from "./protocol";

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private model: StatusModel = initialStatus();

  constructor() {
    this.item = vscode.window.createStatusBarItem("quiver.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Quiver";
    this.item.command = "quiver.showStatus";
    this.render();
    this.item.show();
  }

  phase(phase: ServerPhase, failure?: string): void {
    this.model = withPhase(this.model, phase, failure);
    this.render();
  }

  status(status: StatusResponse): void {
    this.model = withStatus(this.model, status);
    this.render();
  }

  progress(token: string | number, value: ProgressValue): void {
    this.model = withProgress(this.model, token, value);
    this.render();
  }

  /** The latest status answer, for the details view. */
  current(): StatusModel {
    return this.model;
  }

  /** Detail lines for the "Show Index Status" message. */
  details(): string {
    const status = this.model.status;
    if (this.model.phase === "failed") {
      return this.model.failure ?? "The server is not running.";
    }
    if (status === undefined) {
      return "No status from the server yet.";
    }
    return statusDetails(status).join("\n");
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    this.item.text = statusBarText(this.model);
    this.item.tooltip = statusTooltip(this.model);
    const warn = this.model.phase === "failed" || this.model.status?.state === "error";
    this.item.backgroundColor = warn ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }
}
