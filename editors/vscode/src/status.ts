/**
 * The index state the status bar shows, built from `$/progress`,
 * `quiver/statusChanged` and `quiver/status`. Pure: the `vscode` layer only
 * copies `text`/`tooltip` onto a StatusBarItem.
 */
import type { StatusResponse } from "./protocol";

export type ServerPhase = "starting" | "running" | "stopped" | "failed";

/** Work-done progress values (`$/progress` with a WorkDoneProgress body). */
export type ProgressValue =
  | { kind: "begin"; title: string; message?: string; percentage?: number }
  | { kind: "report"; message?: string; percentage?: number }
  | { kind: "end"; message?: string };

export interface ActiveProgress {
  title: string;
  message?: string;
  percentage?: number;
}

export interface StatusModel {
  phase: ServerPhase;
  /** The latest `quiver/status` answer or `quiver/statusChanged` body. */
  status?: StatusResponse;
  /** Work-done progress in flight, by token. */
  progress: ReadonlyMap<string, ActiveProgress>;
  /** Why the server is not running, when phase is "failed". */
  failure?: string;
}

export function initialStatus(): StatusModel {
  return { phase: "starting", progress: new Map() };
}

export function withPhase(model: StatusModel, phase: ServerPhase, failure?: string): StatusModel {
  const progress = phase === "running" ? model.progress : new Map<string, ActiveProgress>();
  return { ...model, phase, failure, progress };
}

export function withStatus(model: StatusModel, status: StatusResponse): StatusModel {
  return { ...model, phase: "running", status };
}

/** Applies one `$/progress` value for `token`; "end" forgets the token. */
export function withProgress(
  model: StatusModel,
  token: string | number,
  value: ProgressValue,
): StatusModel {
  const key = String(token);
  const progress = new Map(model.progress);
  switch (value.kind) {
    case "begin":
      progress.set(key, { title: value.title, message: value.message, percentage: value.percentage });
      break;
    case "report": {
      const previous = progress.get(key) ?? { title: "Indexing" };
      progress.set(key, {
        title: previous.title,
        message: value.message ?? previous.message,
        percentage: value.percentage ?? previous.percentage,
      });
      break;
    }
    case "end":
      progress.delete(key);
      break;
  }
  return { ...model, progress };
}

/** `31204` → `31,204`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function latestProgress(model: StatusModel): ActiveProgress | undefined {
  let last: ActiveProgress | undefined;
  for (const value of model.progress.values()) {
    last = value;
  }
  return last;
}

/**
 * `Indexing — checking files`, `Indexing — 120/2,000 files`, `Indexing 45%`: the
 * progress title, then its message after a dash (the server sends both as
 * sentences, "Indexing" and "Checking files", which read as one garbled phrase
 * when only a space joins them), else its percentage.
 */
function progressText(progress: ActiveProgress): string {
  if (progress.message) {
    return `${progress.title} — ${lowerFirstWord(progress.message)}`;
  }
  if (progress.percentage !== undefined) {
    return `${progress.title} ${Math.round(progress.percentage)}%`;
  }
  return progress.title;
}

/** `Checking files` → `checking files`; an acronym (`GPU ready`) or a number stays as it is. */
function lowerFirstWord(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

/** The status bar text, with a codicon: short enough to sit beside the language mode. */
export function statusBarText(model: StatusModel): string {
  switch (model.phase) {
    case "stopped":
      return "$(circle-slash) Quiver";
    case "failed":
      return "$(error) Quiver";
    case "starting":
      return "$(loading~spin) Quiver";
    case "running":
      break;
  }
  const progress = latestProgress(model);
  if (progress !== undefined) {
    return `$(sync~spin) Quiver: ${progressText(progress)}`;
  }
  const status = model.status;
  if (status === undefined) {
    return "$(loading~spin) Quiver";
  }
  switch (status.state) {
    case "starting":
      return "$(loading~spin) Quiver";
    case "indexing":
      return status.files > 0
        ? `$(sync~spin) Quiver: ${formatCount(status.filesIndexed)}/${formatCount(status.files)} files`
        : "$(sync~spin) Quiver: indexing";
    case "ready":
      return "$(check) Quiver";
    case "error":
      return "$(warning) Quiver";
  }
}

/** The detail lines for a status answer, one fact a line. */
export function statusDetails(status: StatusResponse): string[] {
  const folders = status.workspaceFolders.length > 0 ? status.workspaceFolders.join(", ") : "none";
  return [
    `State: ${status.state}${status.message ? ` — ${status.message}` : ""}`,
    `Files: ${formatCount(status.filesIndexed)} of ${formatCount(status.files)} indexed`,
    `Symbols: ${formatCount(status.symbols)}`,
    `Index generation: ${status.generation}`,
    `Role: ${status.role === "writer" ? "writer (updates the shared cache)" : "reader (another Quiver process updates the cache)"}`,
    `Model: ${status.model.id} (${status.model.dim} dimensions)`,
    `Cache: ${status.cacheDir} (${formatBytes(status.diskBytes)})`,
    `Last update: ${status.lastUpdate ?? "never"}`,
    `Workspace folders: ${folders}`,
  ];
}

/** The status bar tooltip: what the icon means and the numbers behind it. */
export function statusTooltip(model: StatusModel): string {
  const lines: string[] = [];
  switch (model.phase) {
    case "stopped":
      lines.push("Quiver: the server is stopped.");
      break;
    case "failed":
      lines.push(`Quiver: the server is not running. ${model.failure ?? ""}`.trim());
      break;
    case "starting":
      lines.push("Quiver: starting the server…");
      break;
    case "running": {
      const progress = latestProgress(model);
      if (progress !== undefined) {
        lines.push(`Quiver: ${progressText(progress)}`);
      }
      if (model.status !== undefined) {
        lines.push(...statusDetails(model.status));
      }
      break;
    }
  }
  lines.push("", "Click for details.");
  return lines.join("\n");
}
