import { BusClosedError } from "../errors.js";
import { MemoryHistoryStore } from "../history/memory-store.js";
import type { HistorySettings, HistoryStore } from "../history/store.js";
import type { Transport, TransportSink } from "../transport.js";

/**
 * An in-process stand-in for a Pub/Sub server: the channels of every
 * {@link MemoryTransport} connected to it. Share one broker between buses to
 * let them see each other's events, as two processes would through Redis.
 *
 * Like Redis, delivery is asynchronous (never inside the `publish` call, on a
 * microtask after it) and in publish order per channel; a message reaches the
 * connections subscribed to its channel when it is delivered.
 */
export class MemoryBroker {
  readonly #subscribers = new Map<string, Set<TransportSink>>();
  /** The history stores, one per set of bounds (as JSON). */
  readonly #histories = new Map<string, MemoryHistoryStore>();
  #queue: [channel: string, data: string][] = [];
  #flushScheduled = false;
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    for (const [channel, data] of batch) {
      const sinks = this.#subscribers.get(channel);
      if (sinks === undefined) continue;
      for (const sink of sinks) sink.message(channel, data);
    }
  };

  /** Queues `data` for delivery to the subscribers of `channel`. */
  publish(channel: string, data: string): void {
    this.#queue.push([channel, data]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /**
   * The broker's history store for `settings`, which publishes each appended
   * event through the broker. Buses of one broker that keep the same bounds
   * share one store (as processes share one Redis); a bus with other bounds
   * gets a store of its own, since one store keeps one set of bounds.
   */
  history(settings: HistorySettings): HistoryStore {
    const key = JSON.stringify(settings);
    let store = this.#histories.get(key);
    if (store === undefined) {
      store = new MemoryHistoryStore({
        ...settings,
        deliver: (channel, message) => this.publish(channel, message),
      });
      this.#histories.set(key, store);
    }
    return store;
  }

  /** Starts delivering the messages of `channels` to `sink`. */
  subscribe(sink: TransportSink, channels: readonly string[]): void {
    for (const channel of channels) {
      let sinks = this.#subscribers.get(channel);
      if (sinks === undefined) {
        sinks = new Set();
        this.#subscribers.set(channel, sinks);
      }
      sinks.add(sink);
    }
  }

  /** Stops delivering the messages of `channels` to `sink`. */
  unsubscribe(sink: TransportSink, channels: Iterable<string>): void {
    for (const channel of channels) {
      const sinks = this.#subscribers.get(channel);
      if (sinks === undefined) continue;
      sinks.delete(sink);
      if (sinks.size === 0) this.#subscribers.delete(channel);
    }
  }

  /** How many connections are subscribed to `channel` (Redis's `PUBSUB NUMSUB`). */
  subscriberCount(channel: string): number {
    return this.#subscribers.get(channel)?.size ?? 0;
  }
}

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** The broker to connect to; default a new one of its own, reachable by this transport alone. */
  readonly broker?: MemoryBroker;
}

/**
 * The in-process transport, the bus's embedded default: no server, no
 * network, the same observable behaviour as Redis Pub/Sub. It never
 * disconnects, so it never loses an event.
 */
export class MemoryTransport implements Transport {
  readonly #broker: MemoryBroker;
  #sink: TransportSink | undefined;
  #closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.#broker = options.broker ?? new MemoryBroker();
  }

  async open(sink: TransportSink): Promise<void> {
    this.#sink = sink;
  }

  async publish(channel: string, data: string): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    this.#broker.publish(channel, data);
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    if (this.#closed || this.#sink === undefined) throw new BusClosedError();
    this.#broker.subscribe(this.#sink, channels);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    if (this.#sink === undefined) return;
    this.#broker.unsubscribe(this.#sink, channels);
  }

  /** The broker's history store (see {@link MemoryBroker.history}). */
  history(settings: HistorySettings): HistoryStore {
    return this.#broker.history(settings);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sink !== undefined) this.#broker.unsubscribe(this.#sink, this.#sink.liveChannels());
  }
}
