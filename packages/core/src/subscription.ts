import { SlowConsumerError } from "./errors.js";
import type { Event } from "./events.js";
import { FifoQueue } from "./queue.js";

/**
 * What a subscription does when an event arrives and its buffer is full:
 * - `"error"` (default): end the subscription with a {@link SlowConsumerError}
 *   after the buffered events, so falling behind is never silent;
 * - `"drop-oldest"`: discard the oldest buffered event, keep the newest;
 * - `"drop-newest"`: discard the arriving event.
 * Dropped events are counted in `subscription.dropped` and the bus's stats.
 */
export type OverflowPolicy = "error" | "drop-oldest" | "drop-newest";

/** The default bound of each subscription's buffer, in events. */
export const DEFAULT_BUFFER_SIZE = 10_000;

/** Options of `bus.subscribe`. */
export interface SubscribeOptions {
  /** Ends the subscription (the iterator returns `done`) when aborted. */
  readonly signal?: AbortSignal;
  /** At most this many events wait for the consumer (default: the bus's, 10,000). */
  readonly bufferSize?: number;
  /** What to do when the buffer is full (default: the bus's, `"error"`). */
  readonly overflow?: OverflowPolicy;
}

/**
 * The events of some channels, as an async iterator. It is subscribed from the
 * moment `subscribe` returns; `ready` says when the server has confirmed it.
 * Leaving a `for await` loop (`break`, `return`, a throw), calling
 * `unsubscribe()` or `return()`, aborting its signal or disposing it
 * (`await using`) unsubscribes it and drops what it buffered. When the bus
 * closes, it yields what it buffered, then ends.
 *
 * @example
 * await using sub = bus.subscribe([bus.getProjectChannel(projectId)]);
 * await sub.ready;
 * for await (const event of sub) console.log(event.type, event.payload);
 */
export interface Subscription
  extends AsyncIterableIterator<Event, undefined, undefined>,
    AsyncDisposable {
  /** The channels it receives, as given to `subscribe`. */
  readonly channels: readonly string[];
  /**
   * Resolves once the server has confirmed every channel: every event published
   * to them after that reaches this subscription. Rejects (with a typed
   * `EventBusError`) if the subscription failed; the iterator then throws the
   * same error. Unobserved rejections are never reported as unhandled.
   */
  readonly ready: Promise<void>;
  /**
   * Resolves when the subscription stops receiving, with the error that ended it
   * (`SlowConsumerError`, a failed subscribe) or `undefined`. Never rejects.
   */
  readonly closed: Promise<Error | undefined>;
  /** How many events the overflow policy discarded. */
  readonly dropped: number;
  /** How many events are buffered, waiting for the consumer. */
  readonly pending: number;
  /** Stops receiving and ends the iterator; buffered events are discarded. Idempotent. */
  unsubscribe(): void;
  /** Unsubscribes (as {@link unsubscribe}) and ends the iterator. */
  return(): Promise<IteratorReturnResult<undefined>>;
  [Symbol.asyncIterator](): Subscription;
}

/** Counters a subscription adds to, shared with its bus. */
export interface DeliveryCounters {
  delivered: number;
  dropped: number;
  slowConsumers: number;
}

interface Waiter {
  resolve(result: IteratorResult<Event, undefined>): void;
  reject(error: Error): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** The bus's implementation of {@link Subscription}. */
export class EventSubscription implements Subscription {
  readonly channels: readonly string[];
  readonly closed: Promise<Error | undefined>;
  ready: Promise<void> = Promise.resolve();
  #dropped = 0;
  readonly #queue = new FifoQueue<Event>();
  readonly #waiters: Waiter[] = [];
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #counters: DeliveryCounters;
  readonly #detach: (sub: EventSubscription) => void;
  #ended = false;
  #error: Error | undefined;
  #resolveClosed!: (error: Error | undefined) => void;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.unsubscribe();

  constructor(
    channels: readonly string[],
    settings: { bufferSize: number; overflow: OverflowPolicy },
    counters: DeliveryCounters,
    detach: (sub: EventSubscription) => void,
  ) {
    this.channels = channels;
    this.#bufferSize = settings.bufferSize;
    this.#overflow = settings.overflow;
    this.#counters = counters;
    this.#detach = detach;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get dropped(): number {
    return this.#dropped;
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Takes the server's confirmation; if it fails, the subscription ends with its error. */
  track(confirmation: Promise<void>): void {
    this.ready = confirmation;
    confirmation.catch((error: Error) => this.#finish(error, false));
  }

  /** Ends the subscription when `signal` aborts (at once if it already has). */
  watch(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this.unsubscribe();
      return;
    }
    this.#signal = signal;
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Hands one event to the consumer or its buffer, applying the overflow policy. */
  deliver(event: Event): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#counters.delivered++;
      waiter.resolve({ done: false, value: event });
      return;
    }
    if (this.#queue.length < this.#bufferSize) {
      this.#counters.delivered++;
      this.#queue.push(event);
      return;
    }
    switch (this.#overflow) {
      case "drop-newest":
        this.#drop();
        return;
      case "drop-oldest":
        this.#queue.shift();
        this.#queue.push(event);
        this.#drop();
        return;
      case "error":
        this.#counters.slowConsumers++;
        this.#finish(new SlowConsumerError(this.#bufferSize), false);
        return;
    }
  }

  /** Ends the subscription because its bus closed: buffered events are still yielded. */
  end(): void {
    this.#finish(undefined, false);
  }

  next(): Promise<IteratorResult<Event, undefined>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.#ended) return this.#settled();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  unsubscribe(): void {
    this.#finish(undefined, true);
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.unsubscribe();
    return DONE;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.unsubscribe();
  }

  [Symbol.asyncIterator](): Subscription {
    return this;
  }

  #drop(): void {
    this.#dropped++;
    this.#counters.dropped++;
  }

  /** The result once ended and drained: the ending error, once, then `done` for ever. */
  #settled(): Promise<IteratorResult<Event, undefined>> {
    const error = this.#error;
    if (error === undefined) return Promise.resolve(DONE);
    this.#error = undefined;
    return Promise.reject(error);
  }

  #finish(error: Error | undefined, discardBuffered: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#detach(this);
    if (discardBuffered) this.#queue.clear();
    for (const waiter of this.#waiters.splice(0)) {
      this.#settled().then(waiter.resolve, waiter.reject);
    }
    this.#resolveClosed(error);
  }
}
