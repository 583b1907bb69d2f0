/** Delay calls to `fn` until `waitMs` have passed without another call. */
export function debounce<T extends unknown[]>(fn: (...args: T) => void, waitMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: T) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}

export class SearchBox {
  private query = "";

  /** Render the list of matching results as HTML list items. */
  renderResults(results: string[]): string {
    return results.map((r) => `<li>${r}</li>`).join("");
  }

  setQuery(query: string): void {
    this.query = query.trim();
  }
}

export const formatDuration = (ms: number): string =>
  ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
