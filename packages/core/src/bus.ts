import { type ChannelAddress, ChannelNames } from "./channels.js";
import { encodeEvent, tryDecodeEvent, tryDecodePositionedEvent } from "./codec.js";
import { Continuity, type ContinuityStats, type GapReport } from "./continuity.js";
import {
  BusClosedError,
  ChannelMismatchError,
  EventBusError,
  EventTooLargeError,
  HistoryDisabledError,
  InvalidChannelError,
  MalformedMessageError,
  SubscribeFailedError,
} from "./errors.js";
import type { Event } from "./events.js";
import { encodePosition, fingerprintOf, type Position, parsePosition } from "./history/position.js";
import type { SequencedEvent, SequencerPage } from "./history/sequencer.js";
import {
  type HistoryGap,
  type HistoryOptions,
  type HistoryQuery,
  type HistorySettings,
  type HistoryStore,
  resolveHistorySettings,
} from "./history/store.js";
import { Listeners } from "./listeners.js";
import {
  DEFAULT_BUFFER_SIZE,
  type DeliveryCounters,
  EventSubscription,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionShared,
} from "./subscription.js";
import { SubscriptionPlanner } from "./subscription-planner.js";
import type { Transport, TransportConnectionEvent } from "./transport.js";
import { MemoryTransport } from "./transports/memory.js";

/** How many pairs of non-default subscription settings a bus remembers (see `#sharedFor`). */
const MAX_SHARED_SETTINGS = 16;

/** The default bound on an encoded event, in bytes (1 MiB). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** How an {@link EventBus} is built. Every field is optional. */
export interface EventBusOptions {
  /** Where events travel. Default: a new in-memory transport of its own. */
  readonly transport?: Transport;
  /** The first segment of channel names (default `"events"`: `events:project:<uuid>`). */
  readonly channelPrefix?: string;
  /** Larger encoded events are refused with `EventTooLargeError` (default 1 MiB). */
  readonly maxEventBytes?: number;
  /** Each subscription's default buffer bound, in events (default 10,000). */
  readonly bufferSize?: number;
  /** Each subscription's default overflow policy (default `"error"`). */
  readonly overflow?: OverflowPolicy;
  /**
   * Keep history (off by default): `true` for the default bounds, or the
   * bounds (`maxEntries`, `ttlMs`...). With it on, `publish` resolves to the
   * event's position, `history` reads a channel's retained events and
   * `positionOf` names the position of a received event. See `docs/history.md`.
   */
  readonly history?: HistoryOptions | boolean;
}

/** A retained event and its position (the string form, see `parsePosition`). */
export interface PositionedEvent {
  readonly event: Event;
  readonly position: string;
}

/** What {@link EventBus.history} asks for: the events after `since`, or the latest ones; at most `limit`. */
export interface HistoryRequest {
  /** A position this bus gave (from `publish`, `positionOf` or a read's `current`). */
  readonly since?: string;
  /** At most this many events (default and cap: the bus's `maxEntries`). */
  readonly limit?: number;
}

/**
 * The answer of {@link EventBus.history}: the retained events asked for, in
 * order, with their positions, and the channel's current position. When
 * `complete` is false some asked-for events are gone (`gap` says why): reload
 * from your source of truth and go on from `current`.
 */
export type HistoryPage = {
  readonly events: readonly PositionedEvent[];
  /** The channel's position now (its last event's offset; no fingerprint). */
  readonly current: string;
  /** More events are retained after the last one: read on from its position. */
  readonly more: boolean;
} & ({ readonly complete: true } | { readonly complete: false; readonly gap: HistoryGap });

/**
 * A change of the bus's connection, as seen by `bus.on("connection", ...)`.
 * Plain Pub/Sub is at-most-once: between `disconnected` and `reconnected`
 * events published by others may have been lost; `downtimeMs` says how long
 * that window was.
 */
export type ConnectionEvent = TransportConnectionEvent & { readonly at: Date };

/** What `bus.on(name, listener)` can listen to. */
export interface EventBusEvents {
  /** A message on a subscribed channel was not a valid event; it was skipped. */
  malformed: MalformedMessageError;
  /** The transport's connection was lost or came back. */
  connection: ConnectionEvent;
  /**
   * History on: events of a channel were missed and could not be recovered
   * (a live gap, or a resume that was not complete). Subscribers get it in
   * sequence too, through `deliveries()`.
   */
  gap: GapReport;
}

/** Counters since the bus was created; see {@link EventBus.stats}. The recovery counters stay 0 without history. */
export interface EventBusStats extends ContinuityStats {
  /** Events published by this bus. */
  readonly published: number;
  /** Events handed to subscriptions (one per subscriber of the event's channel). */
  readonly delivered: number;
  /** Events discarded by a drop overflow policy. */
  readonly dropped: number;
  /** Subscriptions ended with `SlowConsumerError`. */
  readonly slowConsumers: number;
  /** Messages skipped as malformed. */
  readonly malformed: number;
  /** Times the connection was lost. */
  readonly disconnects: number;
  /** Times it came back with every channel re-subscribed. */
  readonly reconnects: number;
  /** Total time spent disconnected (the loss windows), in milliseconds. */
  readonly downtimeMs: number;
  /** Channels with at least one local subscriber (each subscribed on the server once). */
  readonly channels: number;
}

/**
 * What the bus keeps about a channel: whether it is a project channel, whose
 * events must carry its project (the channel's last 36 characters, its UUID).
 * A flag rather than the id, as a bus may hold 100,000 channels.
 */
type IsProjectChannel = boolean;

const noop = (): void => {};

const NO_RECOVERY: ContinuityStats = {
  resumes: 0,
  resumesIncomplete: 0,
  replayed: 0,
  backfills: 0,
  backfilled: 0,
  gaps: 0,
};

/**
 * Publishes events to channels and hands them to subscribers, over a
 * {@link Transport}. Validates and encodes on publish, decodes and validates
 * once per message on receipt, and fans each event out to every local
 * subscriber of its channel. Build one with `createEventBus(url)`.
 *
 * @example
 * const bus = createEventBus();
 * const channel = bus.getProjectChannel(projectId);
 * const sub = bus.subscribe([channel]);
 * await sub.ready;
 * await bus.publish(channel, createEvent({ type: EventType.SPRINT_STARTED,
 *   project_id: projectId, actor_type: "system" }));
 * const { value } = await sub.next();
 * await bus.close();
 */
export class EventBus {
  readonly #transport: Transport;
  readonly #names: ChannelNames;
  readonly #maxEventBytes: number;
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #planner = new SubscriptionPlanner<EventSubscription, IsProjectChannel>();
  readonly #listeners = new Listeners<EventBusEvents>();
  readonly #counters: DeliveryCounters = { delivered: 0, dropped: 0, slowConsumers: 0 };
  readonly #opened: Promise<void>;
  /** What every subscription with default options shares. */
  readonly #defaults: SubscriptionShared;
  /** The shared part of subscriptions with other settings than the bus's, one per setting pair. */
  readonly #otherSettings = new Map<string, SubscriptionShared>();
  #isOpen = false;
  /** Why the transport failed to open, once it has. */
  #openFailure: Error | undefined;
  #down = false;
  /** The channel last published to and what it addresses: publishers repeat channels. */
  #lastChannel: { readonly name: string; readonly address: ChannelAddress } | undefined;
  #closing: Promise<void> | undefined;
  /** The history bounds, when history is on. */
  readonly #historySettings: HistorySettings | undefined;
  /** The transport's history store, asked for once the transport is open. */
  #historyStore: HistoryStore | undefined;
  /** The position of each received event that carried one (history on). */
  readonly #positions = new WeakMap<Event, string>();
  /** Backfill and resume (history on). */
  readonly #continuity: Continuity | undefined;
  #published = 0;
  #malformed = 0;
  #disconnects = 0;
  #reconnects = 0;
  #downtimeMs = 0;

  /** @throws {RangeError} if a bound is not a positive integer; {@link InvalidChannelError} for a bad prefix. */
  constructor(options: EventBusOptions = {}) {
    this.#transport = options.transport ?? new MemoryTransport();
    this.#names = new ChannelNames(options.channelPrefix);
    this.#maxEventBytes = positiveInteger(
      "maxEventBytes",
      options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
    );
    this.#bufferSize = positiveInteger("bufferSize", options.bufferSize ?? DEFAULT_BUFFER_SIZE);
    this.#overflow = options.overflow ?? "error";
    const { history = false } = options;
    if (history !== false) {
      if (this.#transport.history === undefined) {
        throw new TypeError("this transport keeps no history");
      }
      this.#historySettings = resolveHistorySettings(history === true ? {} : history);
    }
    this.#defaults = {
      bufferSize: this.#bufferSize,
      overflow: this.#overflow,
      counters: this.#counters,
      attach: (sub, channels) => this.#join(sub, channels),
      detach: (sub) => this.#leave(sub),
      positionOf: (event) => this.#positions.get(event),
      history: this.#historySettings !== undefined,
    };
    this.#continuity =
      this.#historySettings === undefined
        ? undefined
        : new Continuity({
            channel: (channel) => this.#planner.get(channel),
            read: (channel, since) =>
              this.#readPage(channel, since === undefined ? { limit: 1 } : { since }),
            gap: (report) => this.#listeners.emit("gap", report),
          });
    this.#opened = this.#transport
      .open({
        message: (channel, data) => this.#receive(channel, data),
        connection: (event) => this.#onConnection(event),
        liveChannels: () => this.#planner.live(),
      })
      .then(
        () => {
          this.#isOpen = true;
          this.#send();
        },
        (error: Error) => {
          this.#openFailure = error;
          this.#send();
          throw error;
        },
      );
    // Failures surface through publish and subscribe; never as an unhandled rejection.
    this.#opened.catch(() => {});
  }

  /**
   * The channel of one project's events: `events:project:<uuid>`.
   * @throws {InvalidChannelError} if `projectId` is not a UUID.
   */
  getProjectChannel(projectId: string): string {
    return this.#names.project(projectId);
  }

  /**
   * The channel of one agent's events: `events:agent:<uuid>`.
   * @throws {InvalidChannelError} if `agentId` is not a UUID.
   */
  getAgentChannel(agentId: string): string {
    return this.#names.agent(agentId);
  }

  /**
   * Validates, encodes and publishes one event to one channel. Resolves once the
   * transport has accepted it. Events one caller publishes to one channel reach
   * every subscriber in the order published.
   *
   * With history on, the event is also kept, and the promise resolves to its
   * position (a string): publishing an event id the channel has seen among its
   * last `idempotencyWindow` events stores and delivers nothing and resolves
   * to the first one's position, so a retry after `PublishFailedError` is
   * safe. Without history it resolves to `undefined`.
   *
   * @throws {ValidationError} the event is invalid (`issues` says which fields).
   * @throws {InvalidChannelError} the channel is not a project or agent channel of this bus.
   * @throws {ChannelMismatchError} a project channel of another project than the event's.
   * @throws {EventTooLargeError} the encoded event exceeds `maxEventBytes`.
   * @throws {BusClosedError} the bus is closed.
   * Transports add their own, such as `NotConnectedError` and `PublishFailedError`.
   * Nothing that throws before the transport is reached has been published.
   */
  async publish(channel: string, event: Event): Promise<string | undefined> {
    if (this.#closing !== undefined) throw new BusClosedError();
    const address = this.#address(channel);
    const data = encodeEvent(event);
    if (address.kind === "project" && event.project_id.toLowerCase() !== address.id) {
      throw new ChannelMismatchError(channel, event.project_id);
    }
    // A UTF-16 unit takes at most 3 UTF-8 bytes, so short strings skip the byte count.
    if (data.length * 3 > this.#maxEventBytes) {
      const bytes = Buffer.byteLength(data);
      if (bytes > this.#maxEventBytes) throw new EventTooLargeError(bytes, this.#maxEventBytes);
    }
    if (!this.#isOpen) await this.#opened;
    const store = this.#history();
    if (store === undefined) {
      await this.#transport.publish(channel, data);
      this.#published++;
      return undefined;
    }
    const appended = await store.append(channel, { eventId: event.id, data });
    if (!appended.duplicate) this.#published++;
    return encodePosition(appended.position);
  }

  /**
   * Reads the retained events of a channel: those after `since`, or without
   * it the latest ones, at most `limit`, each with its position, plus the
   * channel's current position. A read that cannot give every event asked for
   * says so (`complete: false` and a `gap`), never silently: see
   * `docs/history.md` for each gap. A retained message that is not a valid
   * event of the channel is skipped and reported as `"malformed"`.
   *
   * @throws {HistoryDisabledError} the bus was built without history.
   * @throws {InvalidPositionError} `since` is not a position.
   * @throws {InvalidChannelError} the channel is not a project or agent channel of this bus.
   * @throws {RangeError} `limit` is not a positive integer.
   * @throws {BusClosedError} the bus is closed.
   * @throws {HistoryReadFailedError} the read failed; reading again is safe.
   */
  async history(channel: string, request: HistoryRequest = {}): Promise<HistoryPage> {
    if (this.#closing !== undefined) throw new BusClosedError();
    if (this.#historySettings === undefined) throw new HistoryDisabledError();
    this.#address(channel);
    const since = request.since === undefined ? undefined : parsePosition(request.since);
    if (!this.#isOpen) await this.#opened;
    const read = await this.#readPage(channel, {
      ...(since === undefined ? {} : { since }),
      ...(request.limit === undefined ? {} : { limit: request.limit }),
    });
    const events = read.events.map(({ event, position }) => ({
      event,
      position: encodePosition(position),
    }));
    const page = { events, current: encodePosition(read.current), more: read.more };
    return read.complete
      ? { ...page, complete: true }
      : { ...page, complete: false, gap: read.gap };
  }

  /**
   * The position of an event this bus delivered to a subscription, when it
   * was published with history (by a bus with history on, or through the
   * history script); `undefined` for an event without one (a plain `PUBLISH`,
   * or a bus without history). Resume from it with `history({ since })`.
   */
  positionOf(event: Event): string | undefined {
    return this.#positions.get(event);
  }

  /**
   * Subscribes to one or more channels at once (not lazily on the first
   * `next()`); see {@link Subscription}. Await `ready` before relying on
   * receiving everything published from then on.
   *
   * With history on, each channel starts from `since` (a resume: every
   * retained event after it first, then live, with no gap and no duplicate)
   * or from its current position; `recovery` and `deliveries()` tell how each
   * started, and a live gap that history cannot fill is reported in sequence.
   *
   * @throws {InvalidChannelError} a channel is not a project or agent channel of this bus, or none is given.
   * @throws {BusClosedError} the bus is closed.
   * @throws {RangeError} `bufferSize` or `replayLimit` is not a positive integer.
   * @throws {HistoryDisabledError} `since` without history.
   * @throws {InvalidPositionError} a `since` position is malformed.
   * @throws {TypeError} `since` is one position for several channels, or names a channel not subscribed.
   */
  subscribe(channels: readonly string[], options: SubscribeOptions = {}): Subscription {
    if (this.#closing !== undefined) throw new BusClosedError();
    const unique = [...new Set(channels)];
    if (!isNonEmpty(unique)) {
      throw new InvalidChannelError("", "subscribe needs at least one channel");
    }
    for (const channel of unique) this.#names.parse(channel);
    const since = this.#resumePoints(unique, options.since);
    const bufferSize = positiveInteger("bufferSize", options.bufferSize ?? this.#bufferSize);
    const replayLimit = positiveInteger("replayLimit", options.replayLimit ?? bufferSize);
    const shared = this.#sharedFor(bufferSize, options.overflow ?? this.#overflow);
    const sub = new EventSubscription(unique, shared, options.signal);
    this.#continuity?.subscribed(sub, since, replayLimit);
    return sub;
  }

  /**
   * Listens to reports: `"malformed"` (a message skipped as invalid) and
   * `"connection"` (lost or back). Returns a function that stops listening.
   */
  on<K extends keyof EventBusEvents>(
    name: K,
    listener: (payload: EventBusEvents[K]) => void,
  ): () => void {
    return this.#listeners.on(name, listener);
  }

  /**
   * Settles once the transport has opened: resolves when it connected, rejects
   * with what stopped it (`NotConnectedError` when the server did not answer
   * within the transport's bound, `ConnectionRejectedError` when it refused the
   * connection, `BusClosedError` when the bus was closed first). A bus whose
   * opening failed stays failed. `publish` and `subscribe` wait for it by
   * themselves; a process that is useless without its bus (a gateway) awaits it
   * to fail fast or to retry with a new bus.
   */
  get ready(): Promise<void> {
    return this.#opened;
  }

  /**
   * True while the transport is connected: it has opened, is not between a
   * `disconnected` and a `reconnected` report, and the bus is not closed. What a
   * readiness probe reports.
   */
  get connected(): boolean {
    return this.#isOpen && !this.#down && this.#closing === undefined;
  }

  /**
   * What subscriptions with these settings share: the bus's defaults, or one
   * object per pair of other settings, so that thousands of subscriptions
   * with the same non-default settings (a gateway's streams) share one.
   */
  #sharedFor(bufferSize: number, overflow: OverflowPolicy): SubscriptionShared {
    if (bufferSize === this.#bufferSize && overflow === this.#overflow) return this.#defaults;
    const key = `${bufferSize}:${overflow}`;
    let shared = this.#otherSettings.get(key);
    if (shared === undefined) {
      shared = { ...this.#defaults, bufferSize, overflow };
      // A program that varies its settings per subscription gets an object each, not a growing map.
      if (this.#otherSettings.size < MAX_SHARED_SETTINGS) this.#otherSettings.set(key, shared);
    }
    return shared;
  }

  /** Counters since the bus was created: what was published, delivered, dropped, lost. */
  stats(): EventBusStats {
    return {
      published: this.#published,
      delivered: this.#counters.delivered,
      dropped: this.#counters.dropped,
      slowConsumers: this.#counters.slowConsumers,
      malformed: this.#malformed,
      disconnects: this.#disconnects,
      reconnects: this.#reconnects,
      downtimeMs: this.#downtimeMs,
      channels: this.#planner.size,
      ...(this.#continuity?.stats() ?? NO_RECOVERY),
    };
  }

  /**
   * Ends every subscription (each yields what it buffered, then `done`), then
   * closes the transport's connections. Safe to call more than once; `publish`
   * and `subscribe` throw `BusClosedError` afterwards.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#send();
      const ending = this.#planner.subscribers();
      // Not after `open`: a bus closed while still connecting stops connecting at once.
      this.#closing = this.#transport.close();
      for (const sub of ending) sub.end();
    }
    return this.#closing;
  }

  /** The positions `since` names, per channel, checked. */
  #resumePoints(
    channels: readonly string[],
    since: SubscribeOptions["since"],
  ): ReadonlyMap<string, Position> | undefined {
    if (since === undefined) return undefined;
    if (this.#historySettings === undefined) throw new HistoryDisabledError();
    if (typeof since === "string") {
      if (channels.length !== 1) {
        throw new TypeError("one since position resumes one channel: map each channel to its own");
      }
      return new Map([[channels[0] as string, parsePosition(since)]]);
    }
    const points = new Map<string, Position>();
    for (const [channel, position] of Object.entries(since)) {
      if (!channels.includes(channel)) {
        throw new TypeError(`since names ${channel}, which this subscription does not subscribe`);
      }
      points.set(channel, parsePosition(position));
    }
    return points;
  }

  #address(channel: string): ChannelAddress {
    const last = this.#lastChannel;
    if (last !== undefined && last.name === channel) return last.address;
    const address = this.#names.parse(channel);
    this.#lastChannel = { name: channel, address };
    return address;
  }

  /** Registers a new subscription with the planner; returns its `ready`. */
  #join(sub: EventSubscription, channels: readonly string[]): Promise<void> {
    const joined = this.#planner.join(sub, channels, this.#isProjectChannel);
    // The subscribe calls of one turn cost one SUBSCRIBE.
    if (joined.opened) queueMicrotask(this.#send);
    return joined.ready;
  }

  readonly #isProjectChannel = (channel: string): IsProjectChannel =>
    this.#names.parse(channel).kind === "project";

  /** Unregisters a subscription that ended; what nobody wants any more is unsubscribed now. */
  #leave(sub: EventSubscription): void {
    const channels = sub.channels;
    if (this.#planner.leave(sub, channels)) this.#send();
    const continuity = this.#continuity;
    if (continuity !== undefined) {
      const gone = channels.filter((channel) => this.#planner.get(channel) === undefined);
      continuity.left(sub, gone);
    }
  }

  /**
   * Hands the planner's commands to the transport, in order, and reports the
   * answers to it. Nothing goes out while the transport is opening: the open
   * sends what waited (or, if it failed, fails it).
   */
  readonly #send = (): void => {
    if (!this.#isOpen && this.#openFailure === undefined) return;
    for (const command of this.#planner.takeCommands()) {
      if (command.kind === "subscribe") {
        const { batch } = command;
        if (this.#openFailure !== undefined) {
          this.#planner.failed(batch, this.#openFailure);
        } else {
          this.#subscribeAtServer(batch.channels).then(
            () => {
              this.#planner.confirmed(batch);
              this.#continuity?.confirmed(batch.channels);
            },
            (error: Error) => this.#planner.failed(batch, error),
          );
        }
      } else if (this.#isOpen && this.#closing === undefined) {
        // Closing unsubscribes everything. A failed UNSUBSCRIBE is harmless: messages of a
        // channel without subscribers are ignored, and a reconnect does not re-subscribe it.
        this.#transport.unsubscribe(command.channels).catch(noop);
      }
    }
  };

  async #subscribeAtServer(channels: readonly string[]): Promise<void> {
    try {
      await this.#transport.subscribe(channels);
    } catch (cause) {
      throw cause instanceof EventBusError ? cause : new SubscribeFailedError(channels, { cause });
    }
  }

  /** The transport's history store when history is on; asked for once the transport is open. */
  #history(): HistoryStore | undefined {
    const settings = this.#historySettings;
    if (settings === undefined) return undefined;
    this.#historyStore ??= this.#transport.history?.(settings);
    return this.#historyStore;
  }

  /**
   * Reads a channel's retained events from the store, each decoded and checked
   * as a live message is (an invalid one skipped and reported as malformed),
   * with its position, which {@link positionOf} then answers too.
   */
  async #readPage(channel: string, query: HistoryQuery): Promise<SequencerPage> {
    const isProject = this.#isProjectChannel(channel);
    const read = await (this.#history() as HistoryStore).read(channel, query);
    const events: { event: Event; position: Position }[] = [];
    for (const entry of read.entries) {
      const event = this.#decode(channel, entry.data, isProject);
      if (event === undefined) continue;
      const position = {
        epoch: read.current.epoch,
        offset: entry.offset,
        fingerprint: fingerprintOf(event.id),
      };
      this.#positions.set(event, encodePosition(position));
      events.push({ event, position });
    }
    const page = { events, current: read.current, more: read.more };
    return read.complete
      ? { ...page, complete: true }
      : { ...page, complete: false, gap: read.gap };
  }

  #receive(channel: string, data: string): void {
    const entry = this.#planner.get(channel);
    if (entry === undefined) return;
    const continuity = this.#continuity;
    if (continuity === undefined) {
      const event = this.#decode(channel, data, entry.meta);
      if (event === undefined) return;
      for (const sub of entry.subscribers) sub.deliver(event, channel);
      return;
    }
    const received = this.#decodePositioned(channel, data, entry.meta);
    if (received !== undefined) continuity.receive(channel, received);
  }

  /**
   * Decodes a message of `channel` (live or retained) and checks it belongs
   * there; reports it as malformed and answers `undefined` if not. With
   * history on, remembers the position the message carries.
   */
  #decode(channel: string, data: string, isProject: IsProjectChannel): Event | undefined {
    if (this.#historySettings !== undefined) {
      return this.#decodePositioned(channel, data, isProject)?.event;
    }
    const result = tryDecodeEvent(data);
    if (!result.ok) {
      this.#reportMalformed(
        new MalformedMessageError(channel, result.reason, data, { cause: result.error }),
      );
      return undefined;
    }
    return this.#checkChannel(channel, result.event, data, isProject);
  }

  /** {@link decode} with history on: the event and the position its message carried. */
  #decodePositioned(
    channel: string,
    data: string,
    isProject: IsProjectChannel,
  ): SequencedEvent | undefined {
    const result = tryDecodePositionedEvent(data);
    if (!result.ok) {
      this.#reportMalformed(
        new MalformedMessageError(channel, result.reason, data, { cause: result.error }),
      );
      return undefined;
    }
    const event = this.#checkChannel(channel, result.event, data, isProject);
    if (event === undefined) return undefined;
    const { position } = result;
    if (position !== undefined) this.#positions.set(event, encodePosition(position));
    return { event, position };
  }

  /** `event` if it belongs to `channel`; else reported as malformed. */
  #checkChannel(
    channel: string,
    event: Event,
    data: string,
    isProject: IsProjectChannel,
  ): Event | undefined {
    // A project channel ends with its UUID; a decoded project_id is a lowercase UUID.
    if (isProject && !channel.endsWith(event.project_id)) {
      const cause = new ChannelMismatchError(channel, event.project_id);
      this.#reportMalformed(
        new MalformedMessageError(channel, "channel-mismatch", data, { cause }),
      );
      return undefined;
    }
    return event;
  }

  #reportMalformed(error: MalformedMessageError): void {
    this.#malformed++;
    this.#listeners.emit("malformed", error);
  }

  #onConnection(event: TransportConnectionEvent): void {
    this.#down = event.state === "disconnected";
    if (event.state === "disconnected") {
      this.#disconnects++;
    } else {
      this.#reconnects++;
      this.#downtimeMs += event.downtimeMs;
      this.#continuity?.reconnected(event.channels);
    }
    this.#listeners.emit("connection", { ...event, at: new Date() });
  }
}

function isNonEmpty<T>(items: readonly T[]): items is [T, ...T[]] {
  return items.length > 0;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
