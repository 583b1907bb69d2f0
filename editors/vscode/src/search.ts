/**
 * "Quiver: Semantic Search" and "Quiver: Find Similar Code": a QuickPick of
 * symbols that previews the highlighted one and opens the accepted one.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { LatestRequest, debounce } from "./debounce";
import { nextMode, resultRow, searchTitle, splitSuggestion, type WorkspaceFolderRef } from "./format";
import {
  ErrorCodes,
  SEARCH_MODES,
  SearchRequest,
  SimilarRequest,
  maxSearchLimit,
  type SearchMode,
  type SearchResponse,
  type SearchResult,
} from "./protocol";

/** How long typing must pause before a query is sent. */
const DEBOUNCE_MS = 150;

/** `quiver.search.limit`, at most the largest limit the server advertises. */
function searchLimit(client: LanguageClient): number {
  const limit = vscode.workspace.getConfiguration("quiver").get<number>("search.limit", 50);
  return Math.min(limit, maxSearchLimit(client.initializeResult));
}
const MODE_STATE_KEY = "quiver.search.mode";

interface ResultItem extends vscode.QuickPickItem {
  result?: SearchResult;
}

function folderRefs(): WorkspaceFolderRef[] {
  return (vscode.workspace.workspaceFolders ?? []).map((folder) => ({
    name: folder.name,
    uri: folder.uri.toString(),
  }));
}

function toRange(range: SearchResult["selectionRange"]): vscode.Range {
  return new vscode.Range(
    range.start.line,
    range.start.character,
    range.end.line,
    range.end.character,
  );
}

function toItems(response: SearchResponse): ResultItem[] {
  const folders = folderRefs();
  return response.results.map((result) => ({
    ...resultRow(result, folders),
    // The server already ranked these; VS Code's own label filter must not hide them.
    alwaysShow: true,
    result,
  }));
}

function errorItems(error: unknown): ResultItem[] {
  const message = error instanceof Error ? error.message : String(error);
  const { problem, suggestion } = splitSuggestion(message);
  return [{ label: `$(error) ${problem}`, detail: suggestion, alwaysShow: true }];
}

function isCancellation(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    error.code === ErrorCodes.requestCancelled
  );
}

/** Shows `result` in a preview editor without taking focus from the QuickPick. */
async function preview(result: SearchResult): Promise<void> {
  const uri = vscode.Uri.parse(result.location.uri);
  const selection = toRange(result.selectionRange);
  const editor = await vscode.window.showTextDocument(uri, {
    preview: true,
    preserveFocus: true,
    selection,
  });
  editor.revealRange(toRange(result.location.range), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** Opens `result` for editing, cursor on its name. */
async function open(result: SearchResult): Promise<void> {
  const uri = vscode.Uri.parse(result.location.uri);
  const selection = toRange(result.selectionRange);
  const editor = await vscode.window.showTextDocument(uri, { preview: false, selection });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/**
 * Wires preview-on-highlight, open-on-accept and restoring the previous editor
 * when the user dismisses the picker.
 */
function wireNavigation(picker: vscode.QuickPick<ResultItem>): void {
  const original = vscode.window.activeTextEditor;
  let accepted = false;
  picker.onDidChangeActive((items) => {
    const result = items[0]?.result;
    if (result !== undefined) {
      void preview(result);
    }
  });
  picker.onDidAccept(() => {
    const result = picker.selectedItems[0]?.result ?? picker.activeItems[0]?.result;
    if (result === undefined) {
      return;
    }
    accepted = true;
    picker.hide();
    void open(result);
  });
  picker.onDidHide(() => {
    if (!accepted && original !== undefined) {
      void vscode.window.showTextDocument(original.document, {
        viewColumn: original.viewColumn,
        selection: original.selection,
        preview: false,
      });
    }
    picker.dispose();
  });
}

/** The toggle button shown in the picker's title bar for `mode`. */
function modeButton(mode: SearchMode): vscode.QuickInputButton {
  const icons: Record<SearchMode, string> = {
    hybrid: "layers",
    semantic: "sparkle",
    text: "whole-word",
  };
  return {
    iconPath: new vscode.ThemeIcon(icons[mode] ?? "search"),
    tooltip: `Mode: ${mode} — click for ${nextMode(mode, SEARCH_MODES)}`,
  };
}

/** Opens the semantic search picker; `initialQuery` pre-fills it (e.g. the selection). */
export function showSearch(
  client: LanguageClient,
  state: vscode.Memento,
  initialQuery = "",
): void {
  const picker = vscode.window.createQuickPick<ResultItem>();
  let mode = state.get<SearchMode>(MODE_STATE_KEY, "hybrid");
  if (!SEARCH_MODES.includes(mode)) {
    mode = "hybrid";
  }
  const requests = new LatestRequest(() => new vscode.CancellationTokenSource());
  picker.placeholder = "Describe what the code does, or type a symbol name";
  picker.matchOnDescription = false;
  picker.matchOnDetail = false;
  picker.title = searchTitle(mode, undefined);
  picker.buttons = [modeButton(mode)];

  const run = async (query: string): Promise<void> => {
    if (query.trim() === "") {
      requests.cancel();
      picker.items = [];
      picker.busy = false;
      picker.title = searchTitle(mode, undefined);
      return;
    }
    const token = requests.next();
    picker.busy = true;
    const limit = searchLimit(client);
    try {
      const response = await client.sendRequest(SearchRequest, { query, mode, limit }, token);
      if (!requests.isCurrent(token)) {
        return;
      }
      picker.items = toItems(response);
      picker.title = searchTitle(mode, response);
    } catch (error) {
      if (!requests.isCurrent(token) || isCancellation(error)) {
        return;
      }
      picker.items = errorItems(error);
      picker.title = searchTitle(mode, undefined);
    } finally {
      if (requests.isCurrent(token)) {
        picker.busy = false;
      }
    }
  };
  const search = debounce((query: string) => void run(query), DEBOUNCE_MS);

  picker.onDidChangeValue((value) => search(value));
  picker.onDidTriggerButton(() => {
    mode = nextMode(mode, SEARCH_MODES);
    void state.update(MODE_STATE_KEY, mode);
    picker.buttons = [modeButton(mode)];
    picker.title = searchTitle(mode, undefined);
    search(picker.value);
    search.flush();
  });
  picker.onDidHide(() => {
    search.cancel();
    requests.cancel();
  });
  wireNavigation(picker);
  picker.value = initialQuery;
  picker.show();
  if (initialQuery !== "") {
    search(initialQuery);
    search.flush();
  }
}

/** Finds code similar to the symbol under the cursor and shows it in a picker. */
export async function showSimilar(client: LanguageClient): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage("Quiver: open a file and put the cursor in a function first.");
    return;
  }
  const limit = searchLimit(client);
  const params = {
    textDocument: { uri: editor.document.uri.toString() },
    position: { line: editor.selection.active.line, character: editor.selection.active.character },
    limit,
  };
  let response: SearchResponse;
  try {
    response = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "Quiver: finding similar code" },
      () => client.sendRequest(SimilarRequest, params),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showInformationMessage(message);
    return;
  }
  const picker = vscode.window.createQuickPick<ResultItem>();
  const symbol = editor.document.getText(editor.document.getWordRangeAtPosition(editor.selection.active));
  picker.title = `Quiver: code similar to ${symbol || "the symbol under the cursor"} (${response.results.length})`;
  picker.placeholder = "Filter the similar symbols";
  picker.matchOnDescription = true;
  picker.items = toItems(response).map((item) => ({ ...item, alwaysShow: false }));
  wireNavigation(picker);
  picker.show();
}
