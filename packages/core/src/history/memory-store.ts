import { randomBytes } from "node:crypto";
import { FifoQueue } from "../queue.js";
import { positionOfEvent } from "./position.js";
import { assessRead, planRead } from "./read.js";
import {
  type Appended,
  type AppendInput,
  type HistoryEntry,
  type HistoryOptions,
  type HistoryQuery,
  type HistoryRead,
  type HistorySettings,
  type HistoryStore,
  resolveHistorySettings,
} from "./store.js";
import { checkCanCarryPosition, withWirePosition } from "./wire.js";

/** Options of {@link MemoryHistoryStore}: the bounds, where appended events go live, and a clock. */
export interface MemoryHistoryStoreOptions extends HistoryOptions {
  /**
   * Publishes an appended event live: called inside `append`, in offset order,
   * with the event's JSON carrying its position (as the Redis script
   * publishes it), e.g. `(channel, message) => broker.publish(channel, message)`.
   * Not called for a duplicate. It must not throw: the event is stored by
   * then, and a retry would be a duplicate. Default: nothing is published.
   */
  readonly deliver?: (channel: string, message: string) => void;
  /** The clock, in milliseconds (default `Date.now`); tests drive expiry with it. */
  readonly now?: () => number;
}

interface ChannelHistory {
  readonly epoch: string;
  top: number;
  readonly entries: FifoQueue<HistoryEntry>;
  /** Event id to offset, oldest first, at most `idempotencyWindow`. */
  readonly ids: Map<string, number>;
  /** Last append: the events expire `ttlMs` after it. */
  appendedAt: number;
  /** Last append or read: the epoch and counter expire `metaTtlMs` after it. */
  touchedAt: number;
}

/**
 * The in-process history store: a bounded buffer per channel, an offset
 * counter that outlives it, and an epoch per channel lifetime, made at random,
 * so a new store (a new bus) never continues an old one's positions. Share one
 * store between the buses of one `MemoryBroker`, as processes share Redis.
 *
 * Expiry is lazy: each operation first drops what has expired, oldest first,
 * in time proportional to what it drops. Everything is synchronous inside each
 * call, so appends are atomic and offsets contiguous.
 */
export class MemoryHistoryStore implements HistoryStore {
  readonly settings: HistorySettings;
  readonly #deliver: ((channel: string, message: string) => void) | undefined;
  readonly #now: () => number;
  /** Every channel with an epoch, least recently touched first. */
  readonly #channels = new Map<string, ChannelHistory>();
  /** The channels that retain events, least recently appended to first. */
  readonly #retaining = new Map<string, ChannelHistory>();

  /** @throws {RangeError} a bound is out of range (see {@link HistoryOptions}). */
  constructor(options: MemoryHistoryStoreOptions = {}) {
    this.settings = resolveHistorySettings(options);
    this.#deliver = options.deliver;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Appends and publishes (see {@link HistoryStore.append}).
   * @throws {TypeError} `data` is not a non-empty JSON object text.
   */
  async append(channel: string, input: AppendInput): Promise<Appended> {
    const { eventId, data } = input;
    checkCanCarryPosition(data);
    const now = this.#expire();
    const history = this.#channel(channel, now);
    const deduplicate = eventId !== "" && this.settings.idempotencyWindow > 0;
    const seen = deduplicate ? history.ids.get(eventId) : undefined;
    if (seen !== undefined) {
      return { position: positionOfEvent(history.epoch, seen, eventId), duplicate: true };
    }
    const offset = ++history.top;
    history.entries.push({ offset, data });
    if (history.entries.length > this.settings.maxEntries) history.entries.shift();
    if (deduplicate) {
      history.ids.set(eventId, offset);
      if (history.ids.size > this.settings.idempotencyWindow) {
        history.ids.delete(history.ids.keys().next().value as string);
      }
    }
    history.appendedAt = now;
    moveToEnd(this.#retaining, channel, history);
    this.#touch(channel, history, now);
    this.#deliver?.(channel, withWirePosition(data, { epoch: history.epoch, offset }));
    return { position: positionOfEvent(history.epoch, offset, eventId), duplicate: false };
  }

  /** Reads (see {@link HistoryStore.read}). */
  async read(channel: string, query: HistoryQuery = {}): Promise<HistoryRead> {
    const plan = planRead(query, this.settings);
    const now = this.#expire();
    const history = this.#channel(channel, now);
    this.#touch(channel, history, now);
    const { epoch, top, entries } = history;
    const fetched: HistoryEntry[] = [];
    const oldest = entries.at(0)?.offset;
    if (oldest !== undefined && (plan.mode === "latest" || plan.epoch === epoch)) {
      const from = Math.max(oldest, plan.mode === "latest" ? top - plan.count + 1 : plan.from);
      const to = Math.min(top, from + plan.count - 1);
      for (let offset = from; offset <= to; offset++) {
        const entry = entries.at(offset - oldest);
        if (entry !== undefined) fetched.push(entry);
      }
    }
    return assessRead({ epoch, top, entries: fetched }, plan, query.since);
  }

  /** The channel's history, with a new epoch if it has none. */
  #channel(channel: string, now: number): ChannelHistory {
    let history = this.#channels.get(channel);
    if (history === undefined) {
      history = {
        epoch: randomBytes(6).toString("hex"),
        top: 0,
        entries: new FifoQueue(),
        ids: new Map(),
        appendedAt: now,
        touchedAt: now,
      };
      this.#channels.set(channel, history);
    }
    return history;
  }

  #touch(channel: string, history: ChannelHistory, now: number): void {
    history.touchedAt = now;
    moveToEnd(this.#channels, channel, history);
  }

  /** Drops expired events, then expired counters; returns the time now. */
  #expire(): number {
    const now = this.#now();
    for (const [channel, history] of this.#retaining) {
      if (history.appendedAt + this.settings.ttlMs > now) break;
      history.entries.clear();
      history.ids.clear();
      this.#retaining.delete(channel);
    }
    // A counter outlives its events (metaTtlMs >= ttlMs), so none expiring here still retains any.
    for (const [channel, history] of this.#channels) {
      if (history.touchedAt + this.settings.metaTtlMs > now) break;
      this.#channels.delete(channel);
    }
    return now;
  }
}

/** Re-inserts `key` so that the map's order (oldest first) stays the order of last use. */
function moveToEnd<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}
