/**
 * The Quiver protocol extensions, declared once, mirroring docs/protocol.md.
 *
 * This module must not import `vscode`: the unit tests and the integration
 * test load it in plain Node.
 */
import {
  NotificationType,
  RequestType,
  type Position,
  type Range,
} from "vscode-languageserver-protocol";

export type SearchMode = "hybrid" | "semantic" | "text";

/** The search modes in the order the QuickPick toggle cycles through them. */
export const SEARCH_MODES: readonly SearchMode[] = ["hybrid", "semantic", "text"];

export interface SearchParams {
  /** Natural language, a name, or both. */
  query: string;
  /** Default "hybrid". */
  mode?: SearchMode;
  /** Default 20, at most 200. */
  limit?: number;
  /** SymbolKind labels: "function", "class", "method", ... */
  kinds?: string[];
  /** "python", "rust", "typescript", ... */
  languages?: string[];
  /** Glob patterns on workspace-relative paths. */
  paths?: string[];
}

export type Retriever = "semantic" | "text";

export interface SearchResult {
  name: string;
  /** LSP SymbolKind (numeric). */
  kind: number;
  /** "module.Class" */
  containerName: string;
  location: { uri: string; range: Range };
  /** The name itself. */
  selectionRange: Range;
  language: string;
  /** One line. */
  signature: string;
  /** A few lines of the body. */
  snippet: string;
  /** Higher is better; comparable within one response. */
  score: number;
  retrievers: Retriever[];
}

export interface SearchResponse {
  results: SearchResult[];
  /** True while the first indexing is still running. */
  partial: boolean;
  /** Index generation the answer came from. */
  generation: number;
  elapsedMs: number;
}

export interface SimilarParams {
  textDocument: { uri: string };
  position: Position;
  /** Default 20. */
  limit?: number;
}

export type IndexState = "starting" | "indexing" | "ready" | "error";

export interface StatusResponse {
  state: IndexState;
  /** One human line: "Indexed 2,000 files, 31,204 symbols". */
  message: string;
  /** Whether this server updates the shared cache. */
  role: "writer" | "reader";
  /** URIs. */
  workspaceFolders: string[];
  files: number;
  filesIndexed: number;
  symbols: number;
  generation: number;
  model: { id: string; dim: number };
  cacheDir: string;
  diskBytes: number;
  /** ISO 8601, or null before the first index was published. */
  lastUpdate: string | null;
}

export interface ReindexParams {
  /** Discard the cache and re-embed everything; otherwise only changed files. */
  rebuild?: boolean;
}

export interface ReindexResponse {
  started: boolean;
}

/** `initializationOptions`; every key optional. */
export interface InitializationOptions {
  cacheDir?: string;
  exclude?: string[];
  maxFileSize?: number;
  search?: { limit?: number; mode?: SearchMode };
  watch?: boolean;
}

export const Methods = {
  search: "quiver/search",
  similar: "quiver/similar",
  status: "quiver/status",
  reindex: "quiver/reindex",
  statusChanged: "quiver/statusChanged",
} as const;

export const SearchRequest = new RequestType<SearchParams, SearchResponse, void>(Methods.search);
export const SimilarRequest = new RequestType<SimilarParams, SearchResponse, void>(
  Methods.similar,
);
// The params are `{}` on the wire; a RequestType with an object param keeps them
// from being sent as an absent `params` member.
export const StatusRequest = new RequestType<Record<string, never>, StatusResponse, void>(
  Methods.status,
);
export const ReindexRequest = new RequestType<ReindexParams, ReindexResponse, void>(
  Methods.reindex,
);
export const StatusChangedNotification = new NotificationType<StatusResponse>(
  Methods.statusChanged,
);

/** LSP error codes the server uses (docs/protocol.md, "Errors"). */
export const ErrorCodes = {
  invalidParams: -32602,
  requestFailed: -32803,
  requestCancelled: -32800,
} as const;
