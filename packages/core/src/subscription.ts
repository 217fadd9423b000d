import { SlowConsumerError } from "./errors.js";
import type { Event } from "./events.js";
import type { GapReason } from "./history/sequencer.js";
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
  /**
   * Resume (history on): a position (for one channel), or an object mapping
   * channels to positions. Every retained event after it is delivered first,
   * in order and once, then live events, with no gap at the switch-over; a
   * resume that cannot be complete says so (see {@link Subscription.recovery}).
   * Channels it does not name start at their current position.
   */
  readonly since?: string | Readonly<Record<string, string>>;
  /**
   * A resume that would replay more events than this is reported incomplete
   * (`replay-limit`) rather than replayed. Default: the buffer size.
   */
  readonly replayLimit?: number;
}

/**
 * How a channel of a subscription started, with history on: from a resume
 * position (`since`) or from the channel's current position. When `complete`
 * is false, events after `since` are missing (`gap` says why): reload from
 * your source of truth and go on from `position`.
 */
export type ChannelRecovery = {
  /** The position the subscription asked to resume from, if any. */
  readonly since: string | undefined;
  /**
   * Where delivery goes on from: the last replayed event's position, or the
   * channel's current one; `undefined` only if history could not be read.
   */
  readonly position: string | undefined;
  /** How many missed events were replayed. */
  readonly replayed: number;
} & ({ readonly complete: true } | { readonly complete: false; readonly gap: GapReason });

/**
 * One item of {@link Subscription.deliveries}, in the order it happened on
 * its channel:
 * - `event`: an event, with its position when it carried one;
 * - `start` (history on): the channel's start, once, after what a resume
 *   replayed and before live events;
 * - `gap` (history on): events between `after` and `resumeFrom` are missing
 *   and could not be recovered (history trimmed, expired or lost, or beyond
 *   the replay limit): reload from your source of truth. Never silent.
 */
export type Delivery =
  | {
      readonly kind: "event";
      readonly channel: string;
      readonly event: Event;
      readonly position: string | undefined;
    }
  | { readonly kind: "start"; readonly channel: string; readonly recovery: ChannelRecovery }
  | {
      readonly kind: "gap";
      readonly channel: string;
      readonly reason: GapReason;
      /** The last position delivered before the gap, if any. */
      readonly after: string | undefined;
      /** Delivery goes on after this position (`undefined` when history was unavailable). */
      readonly resumeFrom: string | undefined;
    };

/**
 * A push-style consumer of a subscription (see {@link Subscription.consume}):
 * each delivery is handed to it synchronously, as it arrives, with no promise
 * or microtask in between, so one event can be written to thousands of
 * sockets in one turn of the event loop.
 */
export interface DeliverySink {
  /**
   * Takes one delivery, in the order {@link Subscription.deliveries} would
   * yield it. Return false when backed up (a socket's `write()` returned
   * false): the subscription then buffers what follows, in its bounded buffer
   * under its overflow policy, until {@link Subscription.resume} is called.
   * It runs on the bus's receive path: an error it throws is rethrown on a
   * microtask (an uncaught exception), and the other subscriptions go on.
   */
  deliver(delivery: Delivery): boolean;
  /**
   * Called once, when the subscription has ended: with the error that ended
   * it (`SlowConsumerError`, a failed subscribe) at once, what it buffered
   * not handed over (`pending` says how much); with `undefined` after it
   * unsubscribed, or after the bus closed and everything buffered was handed
   * over.
   */
  end(error: Error | undefined): void;
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
  /** How many items are buffered, waiting for the consumer: events, and with history the start and gap notes. */
  readonly pending: number;
  /**
   * With history on, resolves once every channel has started (see
   * `SubscribeOptions.since`): per channel, whether its resume was complete
   * and the position delivery goes on from. Resolves to an empty map without
   * history. Never rejects.
   */
  readonly recovery: Promise<ReadonlyMap<string, ChannelRecovery>>;
  /**
   * The same subscription as {@link Delivery} items: each event with its
   * channel and position, and, with history on, each channel's start and any
   * gap, in sequence. Iterate either this or the subscription itself, not
   * both: the subscription's own iterator yields events only (gaps are then
   * reported through `bus.on("gap")` and the bus's stats).
   */
  deliveries(): AsyncIterableIterator<Delivery, undefined, undefined>;
  /**
   * Consumes the subscription push-style: hands `sink` each item that
   * {@link deliveries} would yield, in the same order, synchronously as it is
   * delivered (what was buffered before the call first, at once). When
   * `sink.deliver` returns false, later items wait in the subscription's
   * bounded buffer, under its overflow policy, until {@link resume}. The end
   * is reported to `sink.end`. Use it where a promise per event per consumer
   * costs too much (the gateway writes each event to thousands of streams);
   * otherwise iterate. Consume a subscription one way only.
   *
   * @throws {TypeError} if the subscription is already consumed by a sink or
   * a `next()` call is waiting.
   * @example
   * sub.consume({
   *   deliver: (delivery) => response.write(frameOf(delivery)),
   *   end: () => response.end(),
   * });
   * response.on("drain", () => sub.resume());
   */
  consume(sink: DeliverySink): void;
  /**
   * Hands a {@link consume} sink that backed up what was buffered meanwhile,
   * until it backs up again or the buffer is empty. Does nothing otherwise.
   */
  resume(): void;
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
  resolve(result: IteratorResult<Event | Delivery, undefined>): void;
  reject(error: Error): void;
  /** A {@link Subscription.deliveries} consumer (takes every item), or an event consumer. */
  readonly wantsDeliveries: boolean;
}

/**
 * A queued item that is not a bare event: a start or gap note, or an event
 * of a subscription of several channels (whose channel must be kept).
 */
class Note {
  constructor(readonly delivery: Delivery) {}
}

/** What a subscription's buffer holds: most subscriptions (one channel, no history notes) hold bare events. */
type Item = Event | Note;

/** The event an item carries, or `undefined` for a note an event consumer skips. */
function eventOf(item: Item): Event | undefined {
  if (!(item instanceof Note)) return item;
  return item.delivery.kind === "event" ? item.delivery.event : undefined;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const NO_CHANNELS: readonly string[] = Object.freeze([]);

/**
 * What the subscriptions of one bus with the same settings share: the
 * settings, the bus's counters, and how to join and leave the bus. The bus
 * builds one for all subscriptions with default options, so each costs one
 * field.
 */
export interface SubscriptionShared {
  readonly bufferSize: number;
  readonly overflow: OverflowPolicy;
  readonly counters: DeliveryCounters;
  /** Registers a new subscription; returns what its `ready` is (see {@link Subscription.ready}). */
  readonly attach: (sub: EventSubscription, channels: readonly string[]) => Promise<void>;
  /** Unregisters a subscription that ended; called once. */
  readonly detach: (sub: EventSubscription) => void;
  /** The position a delivered event carried (history on), for {@link Delivery}. */
  readonly positionOf: (event: Event) => string | undefined;
  /** Whether the bus keeps history: then each channel reports its start. */
  readonly history: boolean;
}

/** What only some subscriptions ever need, allocated on first need. */
interface Extras {
  dropped: number;
  /** Set once ended: the error that ended it (kept for `closed`) and whether the consumer got it. */
  end: { readonly error: Error | undefined; thrown: boolean } | undefined;
  closed:
    | { readonly promise: Promise<Error | undefined>; resolve(error: Error | undefined): void }
    | undefined;
  abort: { readonly signal: AbortSignal; readonly listener: () => void } | undefined;
  /** The {@link Subscription.consume} sink, if any. */
  sink: SinkState | undefined;
  /** Each channel's start (history on), and the promise `recovery` answers. */
  recovery:
    | {
        readonly started: Map<string, ChannelRecovery>;
        readonly promise: Promise<ReadonlyMap<string, ChannelRecovery>>;
        resolve(started: ReadonlyMap<string, ChannelRecovery>): void;
      }
    | undefined;
}

/** A {@link DeliverySink} and where it stands. */
interface SinkState {
  readonly sink: DeliverySink;
  /** Its last `deliver` returned false: items wait for `resume()`. */
  paused: boolean;
  /** A `deliver` call is running: an item arriving meanwhile (re-entrantly) waits its turn. */
  busy: boolean;
  /** `end` was called. */
  ended: boolean;
}

/**
 * The bus's implementation of {@link Subscription}. A bus may hold 100,000,
 * mostly idle, so each is seven fields, a size the subscription benchmark
 * holds it to (`docs/performance.md`): what only some use (the buffer, the
 * waiting `next()` calls, the end state, the `closed` promise, the abort
 * listener, a push-style sink, the drop count) is allocated on first use,
 * what all of a bus's subscriptions have in common is one shared object, and
 * the one channel most have is held without an array of its own.
 *
 * It joins its bus when built (which gives it its `ready`) and leaves it once
 * when it ends, whichever way it ends.
 */
export class EventSubscription implements Subscription {
  readonly ready: Promise<void>;
  /** The first channel, then the others: most subscriptions have one, and no array. */
  readonly #channel: string;
  readonly #otherChannels: readonly string[];
  #queue: FifoQueue<Item> | undefined;
  #waiters: Waiter[] | undefined;
  readonly #shared: SubscriptionShared;
  #extras: Extras | undefined;

  /**
   * Joins the bus through `shared.attach`. If the server's confirmation fails,
   * the subscription ends with its error; if `signal` aborts (or has), it
   * unsubscribes.
   * @param channels - at least one, distinct, already checked.
   */
  constructor(
    channels: readonly [string, ...string[]],
    shared: SubscriptionShared,
    signal?: AbortSignal,
  ) {
    this.#channel = channels[0];
    this.#otherChannels = channels.length === 1 ? NO_CHANNELS : channels.slice(1);
    this.#shared = shared;
    this.ready = shared.attach(this, channels);
    this.ready.catch((error: Error) => this.#finish(error));
    if (signal !== undefined) this.#unsubscribeOnAbort(signal);
  }

  get channels(): readonly string[] {
    return [this.#channel, ...this.#otherChannels];
  }

  get closed(): Promise<Error | undefined> {
    const extras = this.#ensureExtras();
    if (extras.closed === undefined) {
      if (extras.end !== undefined) {
        extras.closed = { promise: Promise.resolve(extras.end.error), resolve: () => {} };
      } else {
        let resolve!: (error: Error | undefined) => void;
        const promise = new Promise<Error | undefined>((settle) => {
          resolve = settle;
        });
        extras.closed = { promise, resolve };
      }
    }
    return extras.closed.promise;
  }

  get dropped(): number {
    return this.#extras?.dropped ?? 0;
  }

  get pending(): number {
    return this.#queue?.length ?? 0;
  }

  /** Hands one event of `channel` to the consumer or its buffer, applying the overflow policy. */
  deliver(event: Event, channel: string): void {
    this.#push(
      this.#otherChannels.length === 0
        ? event
        : new Note({ kind: "event", channel, event, position: this.#shared.positionOf(event) }),
    );
  }

  /** Queues a gap note, in sequence with the events (see {@link Delivery}). */
  noteGap(gap: Extract<Delivery, { kind: "gap" }>): void {
    this.#push(new Note(gap));
  }

  /**
   * Records how `channel` started and queues its start note; `recovery`
   * resolves once every channel has started.
   */
  started(channel: string, recovery: ChannelRecovery): void {
    const state = this.#recoveryState();
    if (state.started.has(channel)) return;
    state.started.set(channel, recovery);
    this.#push(new Note({ kind: "start", channel, recovery }));
    if (state.started.size === this.#otherChannels.length + 1) state.resolve(state.started);
  }

  get recovery(): Promise<ReadonlyMap<string, ChannelRecovery>> {
    return this.#recoveryState().promise;
  }

  deliveries(): AsyncIterableIterator<Delivery, undefined, undefined> {
    const iterator: AsyncIterableIterator<Delivery, undefined, undefined> = {
      next: () => this.#take(true) as Promise<IteratorResult<Delivery, undefined>>,
      return: () => this.return(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  consume(sink: DeliverySink): void {
    const extras = this.#ensureExtras();
    if (extras.sink !== undefined || (this.#waiters?.length ?? 0) > 0) {
      throw new TypeError("a subscription is consumed one way only: one sink, or its iterators");
    }
    const state: SinkState = { sink, paused: false, busy: false, ended: false };
    extras.sink = state;
    this.#drain(state);
  }

  resume(): void {
    const sink = this.#extras?.sink;
    if (sink === undefined || !sink.paused || sink.busy) return;
    sink.paused = false;
    this.#drain(sink);
  }

  /**
   * Calls `sink.deliver` with `item`, keeping what arrives meanwhile for
   * after it. A `deliver` that throws does not stop the receive path (the
   * other subscriptions, the transport): its error is rethrown on a
   * microtask, where it surfaces as an uncaught exception like any bug.
   */
  #handOver(sink: SinkState, item: Item): void {
    sink.busy = true;
    try {
      sink.paused = !sink.sink.deliver(this.#deliveryOf(item));
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    } finally {
      sink.busy = false;
    }
  }

  /**
   * Hands `sink` what is buffered until it backs up or the buffer is empty;
   * then, if the subscription has ended, tells it so (see {@link DeliverySink.end}).
   */
  #drain(sink: SinkState): void {
    // A failed subscription hands nothing more over (see DeliverySink.end).
    while (!sink.paused && !sink.ended && this.#extras?.end?.error === undefined) {
      const item = this.#queue?.shift();
      if (item === undefined) break;
      this.#handOver(sink, item);
    }
    const end = this.#extras?.end;
    if (end !== undefined && (end.error !== undefined || this.pending === 0)) this.#endSink(sink);
  }

  #endSink(sink: SinkState): void {
    if (sink.ended) return;
    sink.ended = true;
    sink.sink.end(this.#extras?.end?.error);
  }

  #push(item: Item): void {
    const extras = this.#extras;
    if (extras?.end !== undefined) return;
    const { counters, bufferSize, overflow } = this.#shared;
    const event = eventOf(item);
    const sink = extras?.sink;
    if (sink !== undefined && !sink.paused && !sink.busy) {
      // Not paused and not busy: nothing is buffered, so this item is next.
      if (event !== undefined) counters.delivered++;
      this.#handOver(sink, item);
      this.#drain(sink);
      return;
    }
    const waiters = this.#waiters;
    const waiter = waiters?.[0];
    if (waiter !== undefined && (event !== undefined || waiter.wantsDeliveries)) {
      waiters?.shift();
      if (event !== undefined) counters.delivered++;
      waiter.resolve({
        done: false,
        value: waiter.wantsDeliveries ? this.#deliveryOf(item) : (event as Event),
      });
      return;
    }
    this.#queue ??= new FifoQueue<Item>();
    const queue = this.#queue;
    if (queue.length < bufferSize) {
      if (event !== undefined) counters.delivered++;
      queue.push(item);
      return;
    }
    switch (overflow) {
      case "drop-newest":
        this.#drop();
        return;
      case "drop-oldest":
        queue.shift();
        queue.push(item);
        this.#drop();
        return;
      case "error":
        counters.slowConsumers++;
        this.#finish(new SlowConsumerError(bufferSize));
        return;
    }
  }

  #deliveryOf(item: Item): Delivery {
    if (item instanceof Note) return item.delivery;
    return {
      kind: "event",
      channel: this.#channel,
      event: item,
      position: this.#shared.positionOf(item),
    };
  }

  #recoveryState(): NonNullable<Extras["recovery"]> {
    const extras = this.#ensureExtras();
    if (extras.recovery === undefined) {
      let resolve!: (started: ReadonlyMap<string, ChannelRecovery>) => void;
      const promise = new Promise<ReadonlyMap<string, ChannelRecovery>>((settle) => {
        resolve = settle;
      });
      const started = new Map<string, ChannelRecovery>();
      extras.recovery = { started, promise, resolve };
      if (!this.#shared.history) resolve(started);
    }
    return extras.recovery;
  }

  /** Ends the subscription because its bus closed: buffered events are still yielded. */
  end(): void {
    this.#finish(undefined);
  }

  next(): Promise<IteratorResult<Event, undefined>> {
    return this.#take(false) as Promise<IteratorResult<Event, undefined>>;
  }

  /** The next event (skipping notes), or with `wantsDeliveries` the next item as a {@link Delivery}. */
  #take(wantsDeliveries: boolean): Promise<IteratorResult<Event | Delivery, undefined>> {
    const queue = this.#queue;
    for (let item = queue?.shift(); item !== undefined; item = queue?.shift()) {
      if (wantsDeliveries) return Promise.resolve({ done: false, value: this.#deliveryOf(item) });
      const event = eventOf(item);
      if (event !== undefined) return Promise.resolve({ done: false, value: event });
    }
    if (this.#extras?.end !== undefined) return this.#settled();
    this.#waiters ??= [];
    const waiters = this.#waiters;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject, wantsDeliveries }));
  }

  unsubscribe(): void {
    if (this.#extras?.end !== undefined) return;
    // The consumer is done: what it has not read yet is dropped.
    this.#queue = undefined;
    this.#finish(undefined);
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

  /** Unsubscribes when `signal` aborts (at once if it already has). */
  #unsubscribeOnAbort(signal: AbortSignal): void {
    if (signal.aborted) {
      this.unsubscribe();
      return;
    }
    const listener = (): void => this.unsubscribe();
    this.#ensureExtras().abort = { signal, listener };
    signal.addEventListener("abort", listener, { once: true });
  }

  #ensureExtras(): Extras {
    this.#extras ??= {
      dropped: 0,
      end: undefined,
      closed: undefined,
      abort: undefined,
      sink: undefined,
      recovery: undefined,
    };
    return this.#extras;
  }

  #drop(): void {
    this.#ensureExtras().dropped++;
    this.#shared.counters.dropped++;
  }

  /** The result once ended and drained: the ending error, once, then `done` for ever. */
  #settled(): Promise<IteratorResult<never, undefined>> {
    const end = this.#extras?.end;
    if (end?.error === undefined || end.thrown) return Promise.resolve(DONE);
    end.thrown = true;
    return Promise.reject(end.error);
  }

  /**
   * Ends the subscription with `error` (or none), keeping what it buffered for
   * the consumer: leaves the bus and settles every waiting `next()` and
   * `closed`. Returns false if it had already ended.
   */
  #finish(error: Error | undefined): boolean {
    const extras = this.#ensureExtras();
    if (extras.end !== undefined) return false;
    extras.end = { error, thrown: false };
    if (extras.abort !== undefined) {
      extras.abort.signal.removeEventListener("abort", extras.abort.listener);
      extras.abort = undefined;
    }
    this.#shared.detach(this);
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters !== undefined) {
      for (const waiter of waiters) this.#settled().then(waiter.resolve, waiter.reject);
    }
    extras.closed?.resolve(error);
    // A subscription that ends before every channel started reports those that did.
    extras.recovery?.resolve(extras.recovery.started);
    const sink = extras.sink;
    // A sink that is handing over (or waits to) gets the end after what is buffered.
    if (sink !== undefined && (error !== undefined || (!sink.busy && this.pending === 0))) {
      this.#endSink(sink);
    }
    return true;
  }
}
