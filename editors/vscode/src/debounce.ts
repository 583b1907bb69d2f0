/**
 * Typing-driven requests: wait until the user pauses, and keep only the latest
 * request alive. No `vscode` import, so both are unit-tested in plain Node.
 */

export interface Debounced<A extends unknown[]> {
  (...args: A): void;
  /** Drops a pending call, if any. */
  cancel(): void;
  /** Runs a pending call now instead of waiting. */
  flush(): void;
}

/**
 * Wraps `fn` so that it runs once, `waitMs` after the last of a burst of calls,
 * with the arguments of that last call.
 */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  waitMs: number,
): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;

  const run = (): void => {
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args !== undefined) {
      fn(...args);
    }
  };

  const debounced = (...args: A): void => {
    pending = args;
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = setTimeout(run, waitMs);
  };
  debounced.cancel = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = undefined;
    pending = undefined;
  };
  debounced.flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      run();
    }
  };
  return debounced;
}

/** The part of a CancellationToken that a request needs. */
export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
}

/** The part of a CancellationTokenSource the sequencer uses (VS Code's and vscode-jsonrpc's both fit). */
export interface CancellationTokenSourceLike<T extends CancellationTokenLike> {
  readonly token: T;
  cancel(): void;
  dispose(): void;
}

/**
 * Hands out one cancellation token per request and cancels the previous
 * request's token as soon as a newer one starts, so that only the latest
 * answer is ever shown and the server can drop superseded work.
 */
export class LatestRequest<T extends CancellationTokenLike> {
  private current: CancellationTokenSourceLike<T> | undefined;

  constructor(private readonly newSource: () => CancellationTokenSourceLike<T>) {}

  /** Cancels the previous request (if any) and returns the token for a new one. */
  next(): T {
    this.cancel();
    this.current = this.newSource();
    return this.current.token;
  }

  /** Whether `token` belongs to the latest request and was not cancelled. */
  isCurrent(token: T): boolean {
    return this.current !== undefined && this.current.token === token && !token.isCancellationRequested;
  }

  /** Cancels the in-flight request, if any. */
  cancel(): void {
    if (this.current !== undefined) {
      this.current.cancel();
      this.current.dispose();
      this.current = undefined;
    }
  }
}
