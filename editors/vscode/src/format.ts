/**
 * How search results look in the QuickPick: pure functions, no `vscode` import,
 * so that they are unit-tested in plain Node.
 */
import { fileURLToPath } from "node:url";
import * as path from "node:path";
import type { SearchMode, SearchResponse, SearchResult } from "./protocol";

/** Codicon names for LSP SymbolKind 1..26, in order. */
const KIND_ICONS: readonly string[] = [
  "symbol-file",
  "symbol-module",
  "symbol-namespace",
  "symbol-package",
  "symbol-class",
  "symbol-method",
  "symbol-property",
  "symbol-field",
  "symbol-constructor",
  "symbol-enum",
  "symbol-interface",
  "symbol-function",
  "symbol-variable",
  "symbol-constant",
  "symbol-string",
  "symbol-number",
  "symbol-boolean",
  "symbol-array",
  "symbol-object",
  "symbol-key",
  "symbol-null",
  "symbol-enum-member",
  "symbol-struct",
  "symbol-event",
  "symbol-operator",
  "symbol-type-parameter",
];

/** Human names for LSP SymbolKind 1..26, in order. */
const KIND_NAMES: readonly string[] = [
  "file",
  "module",
  "namespace",
  "package",
  "class",
  "method",
  "property",
  "field",
  "constructor",
  "enum",
  "interface",
  "function",
  "variable",
  "constant",
  "string",
  "number",
  "boolean",
  "array",
  "object",
  "key",
  "null",
  "enum member",
  "struct",
  "event",
  "operator",
  "type parameter",
];

/** The codicon (without `$()`) for a numeric SymbolKind; unknown kinds get a generic icon. */
export function kindIcon(kind: number): string {
  return KIND_ICONS[kind - 1] ?? "symbol-misc";
}

/** The lower-case name of a numeric SymbolKind ("function"); unknown kinds read "symbol". */
export function kindName(kind: number): string {
  return KIND_NAMES[kind - 1] ?? "symbol";
}

export interface WorkspaceFolderRef {
  name: string;
  /** A `file://` URI, as VS Code gives it (`folder.uri.toString()`). */
  uri: string;
}

/** The file-system path of a `file://` URI, or the URI itself for other schemes. */
export function uriToPath(uri: string): string {
  if (!uri.startsWith("file:")) {
    return uri;
  }
  try {
    return fileURLToPath(uri);
  } catch {
    return uri;
  }
}

/**
 * The path a user wants to read for `uri`: relative to the workspace folder
 * that contains it (prefixed with the folder's name when there are several
 * folders), else the absolute path. Always uses `/` separators.
 */
export function displayPath(uri: string, folders: readonly WorkspaceFolderRef[]): string {
  const filePath = uriToPath(uri);
  // The longest containing folder wins, so nested workspace folders read naturally.
  let best: { folder: WorkspaceFolderRef; relative: string } | undefined;
  for (const folder of folders) {
    const folderPath = uriToPath(folder.uri);
    const relative = path.relative(folderPath, filePath);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
      continue;
    }
    if (best === undefined || folderPath.length > uriToPath(best.folder.uri).length) {
      best = { folder, relative };
    }
  }
  if (best === undefined) {
    return filePath.split(path.sep).join("/");
  }
  const relative = best.relative.split(path.sep).join("/");
  return folders.length > 1 ? `${best.folder.name}/${relative}` : relative;
}

/** Collapses a multi-line snippet to one line of at most `maxLength` characters. */
export function oneLine(text: string, maxLength = 120): string {
  const collapsed = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(" ⏎ ");
  if (collapsed.length <= maxLength) {
    return collapsed;
  }
  return `${collapsed.slice(0, Math.max(0, maxLength - 1)).trimEnd()}…`;
}

/** What one QuickPick row shows for a result (the `vscode` layer adds the URI and ranges). */
export interface ResultRow {
  /** `$(symbol-function) retry_with_backoff` */
  label: string;
  /** `net/http.py:41 · net.http` */
  description: string;
  /** The signature or the snippet, on one line. */
  detail: string;
}

/** The QuickPick row for one search result; lines are shown 1-based. */
export function resultRow(result: SearchResult, folders: readonly WorkspaceFolderRef[]): ResultRow {
  const line = result.selectionRange.start.line + 1;
  const where = `${displayPath(result.location.uri, folders)}:${line}`;
  const description = result.containerName ? `${where} · ${result.containerName}` : where;
  const body = result.snippet.trim() ? result.snippet : result.signature;
  return {
    label: `$(${kindIcon(result.kind)}) ${result.name}`,
    description,
    detail: oneLine(body),
  };
}

/** The next mode when the user clicks the mode toggle. */
export function nextMode(mode: SearchMode, modes: readonly SearchMode[]): SearchMode {
  const index = modes.indexOf(mode);
  return modes[(index + 1) % modes.length] ?? mode;
}

/** The QuickPick title: mode, result count and whether the index is still being built. */
export function searchTitle(mode: SearchMode, response: SearchResponse | undefined): string {
  const base = `Quiver: Semantic Search (${mode})`;
  if (response === undefined) {
    return base;
  }
  const count = response.results.length;
  const found = `${count} result${count === 1 ? "" : "s"} in ${Math.round(response.elapsedMs)} ms`;
  const partial = response.partial ? " · still indexing, results may be incomplete" : "";
  return `${base} · ${found}${partial}`;
}

/**
 * Splits a server error message into the problem and the `Suggestion:` line
 * the protocol promises, so the UI can show them on separate lines.
 */
export function splitSuggestion(message: string): { problem: string; suggestion?: string } {
  const marker = message.search(/\n?Suggestion:/);
  if (marker < 0) {
    return { problem: message.trim() };
  }
  const problem = message.slice(0, marker).trim();
  const suggestion = message
    .slice(marker)
    .replace(/^\n?Suggestion:/, "")
    .trim();
  return { problem, suggestion };
}
