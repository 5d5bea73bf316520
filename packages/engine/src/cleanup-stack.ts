/**
 * Clean-ups to run on every way out of a block, written where what they release is taken instead
 * of in nested `finally` blocks. `await using` would read the same, but it wraps a clean-up's error
 * and the block's in a SuppressedError (and Node 20 has no AsyncDisposableStack); this stack keeps
 * the errors as nested `finally` blocks do: each clean-up runs whatever the ones before it threw,
 * and the error that goes out is the last one thrown, replacing the block's own.
 */
export class CleanupStack {
  readonly #cleanups: (() => unknown)[] = [];

  /** Adds a clean-up; the last added runs first. */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /**
   * Runs the clean-ups in reverse order of `defer`, each once, and throws the error of the last
   * one that failed (as the outermost of nested `finally` blocks would).
   */
  async run(): Promise<void> {
    let failed: { err: unknown } | undefined;
    for (let cleanup = this.#cleanups.pop(); cleanup; cleanup = this.#cleanups.pop()) {
      try {
        await cleanup();
      } catch (err) {
        failed = { err };
      }
    }
    if (failed) throw failed.err;
  }
}
