/**
 * Tells this process's webhook dispatcher that something may have been
 * written, so it delivers at once instead of at its next poll. Only a hint:
 * writes by other processes are found by polling.
 */
export interface WriteSignal {
  notify(): void;
  subscribe(listener: () => void): () => void;
}

export function createWriteSignal(): WriteSignal {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
