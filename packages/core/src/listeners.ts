/**
 * A minimal typed listener list. Unlike Node's EventEmitter it has no special
 * `"error"` event that throws when nobody listens: reports are optional.
 */
export class Listeners<Events extends object> {
  readonly #byName = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#byName.get(name);
    if (set === undefined) {
      set = new Set();
      this.#byName.set(name, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /**
   * Calls every listener of `name`. A listener that throws does not stop the
   * others or the caller (the receive path); its error is rethrown on a
   * microtask, where it surfaces as an uncaught exception like any bug.
   */
  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#byName.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
