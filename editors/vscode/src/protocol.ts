/**
 * The Quiver protocol extensions, declared once, mirroring docs/protocol.md.
 *
 * This module must not import `vscode`: the unit tests and the integration
 * test load it in plain Node.
 */
import {
  NotificationType,
  RequestType,
  type InitializeResult,
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

/** What the server advertises as `capabilities.experimental.quiver` in its `initialize` answer. */
export interface QuiverCapabilities {
  /** Of the extensions; raised on an incompatible change. */
  version: number;
  requests: string[];
  notifications: string[];
  /** The largest `limit` a search answers (a larger one is lowered to it). */
  maxSearchLimit: number;
  searchModes: SearchMode[];
}

/** The largest search `limit`, for when the server advertises none (or before it started). */
export const MAX_SEARCH_LIMIT = 200;

/** The `experimental.quiver` capability of an `initialize` answer, if the server sent one. */
export function quiverCapabilities(
  initializeResult: InitializeResult | undefined,
): Partial<QuiverCapabilities> | undefined {
  const experimental: unknown = initializeResult?.capabilities.experimental;
  if (typeof experimental !== "object" || experimental === null) {
    return undefined;
  }
  const quiver: unknown = (experimental as Record<string, unknown>).quiver;
  return typeof quiver === "object" && quiver !== null ? quiver : undefined;
}

/** The largest search `limit` the server answers: the advertised one, else `MAX_SEARCH_LIMIT`. */
export function maxSearchLimit(initializeResult: InitializeResult | undefined): number {
  const advertised = quiverCapabilities(initializeResult)?.maxSearchLimit;
  return typeof advertised === "number" && Number.isInteger(advertised) && advertised >= 1
    ? advertised
    : MAX_SEARCH_LIMIT;
}

/** LSP error codes the server uses (docs/protocol.md, "Errors"). */
export const ErrorCodes = {
  invalidParams: -32602,
  requestFailed: -32803,
  requestCancelled: -32800,
} as const;
