/**
 * Requests a screen is about to make, started before it renders (while the console still waits for the token's
 * organizations, when the organization is already known), each handed once to the first caller that asks for its
 * key. A request nobody takes (the organization id was stale, the screen changed) is dropped with its answer or error.
 */
export class Prefetches {
  readonly #pending = new Map<string, Promise<unknown>>();

  start(key: string, run: () => Promise<unknown>): void {
    const promise = run();
    // Whoever takes it sees the error; untaken, it must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    this.#pending.set(key, promise);
  }

  /** The request started for `key`, once; undefined if none was (or it was taken already). */
  take<T>(key: string): Promise<T> | undefined {
    const promise = this.#pending.get(key);
    this.#pending.delete(key);
    return promise as Promise<T> | undefined;
  }
}
