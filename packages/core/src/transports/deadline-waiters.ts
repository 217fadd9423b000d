/**
 * Callers waiting for something (a connection, a healthy cluster), each until
 * its own deadline, served by one timer: a burst of publishes during an
 * outage does not arm a timer each.
 */

interface Waiter<T> {
  readonly deadline: number;
  readonly operation: string;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A set of waiters settled together ({@link settle}, {@link fail}) or, one by
 * one, rejected when their deadline passes.
 */
export class DeadlineWaiters<T> {
  readonly #waiters = new Set<Waiter<T>>();
  readonly #timedOut: (operation: string) => Error;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /** @param timedOut - the error of a waiter whose deadline passed; `operation` is what it waited for. */
  constructor(timedOut: (operation: string) => Error) {
    this.#timedOut = timedOut;
  }

  /**
   * Waits for the next {@link settle} or {@link fail}.
   * @param deadline - a `performance.now()` time; the wait then rejects with the `timedOut` error.
   * @param operation - what waits, for the error message (`"publish waited 5000 ms"`).
   */
  wait(deadline: number, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiters.add({ deadline, operation, resolve, reject });
      this.#arm();
    });
  }

  /** Resolves every waiter with `value`. */
  settle(value: T): void {
    for (const waiter of this.#take()) waiter.resolve(value);
  }

  /** Rejects every waiter with `error`. */
  fail(error: Error): void {
    for (const waiter of this.#take()) waiter.reject(error);
  }

  #arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const waiter of this.#waiters) earliest = Math.min(earliest, waiter.deadline);
    if (earliest >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = earliest;
    this.#timer = setTimeout(
      () => this.#expire(),
      Math.max(0, Math.ceil(earliest - performance.now())),
    );
  }

  #expire(): void {
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (const waiter of this.#waiters) {
      if (waiter.deadline > now) continue;
      this.#waiters.delete(waiter);
      waiter.reject(this.#timedOut(waiter.operation));
    }
    if (this.#waiters.size > 0) this.#arm();
  }

  /** Removes every waiter (and the timer), for the caller to settle. */
  #take(): Waiter<T>[] {
    clearTimeout(this.#timer);
    this.#timerAt = Number.POSITIVE_INFINITY;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    return waiters;
  }
}
