/**
 * The `quiver.*` settings the server receives as `initializationOptions`.
 * No `vscode` import: the caller passes the values it read.
 */
import { MAX_SEARCH_LIMIT, type InitializationOptions } from "./protocol";

export interface QuiverSettings {
  cacheDir?: string;
  exclude?: string[];
  searchLimit?: number;
}

/**
 * The `initializationOptions` for `initialize`: unset or empty settings are
 * left out so the server keeps its own defaults. The search limit is kept
 * within 1..`maxLimit` (the server's advertised `maxSearchLimit` once it runs).
 */
export function initializationOptions(
  settings: QuiverSettings,
  maxLimit: number = MAX_SEARCH_LIMIT,
): InitializationOptions {
  const options: InitializationOptions = {};
  const cacheDir = settings.cacheDir?.trim() ?? "";
  if (cacheDir !== "") {
    options.cacheDir = cacheDir;
  }
  const exclude = (settings.exclude ?? []).map((pattern) => pattern.trim()).filter((p) => p !== "");
  if (exclude.length > 0) {
    options.exclude = exclude;
  }
  if (settings.searchLimit !== undefined) {
    options.search = { limit: Math.min(maxLimit, Math.max(1, Math.round(settings.searchLimit))) };
  }
  return options;
}

/**
 * The settings pushed with `workspace/didChangeConfiguration` when
 * `quiver.exclude` or `quiver.search.limit` change: those keys only, with an
 * empty `exclude` sent as `[]` so that clearing the setting clears it on the
 * server (an absent key keeps the server's previous value). Never the
 * extension's own settings (`quiver.serverPath`, `quiver.pythonPath`,
 * `quiver.trace.server`), which the server would report as unknown options,
 * nor `cacheDir`, which takes effect on a restart (the extension offers one).
 */
export function changedSettings(
  settings: QuiverSettings,
  maxLimit: number = MAX_SEARCH_LIMIT,
): InitializationOptions {
  const options = initializationOptions({ exclude: settings.exclude, searchLimit: settings.searchLimit }, maxLimit);
  return { exclude: options.exclude ?? [], ...(options.search !== undefined ? { search: options.search } : {}) };
}
