/**
 * One open SSE stream, from its subscriptions to its last write: the stream
 * routes authorize and parse, then hand a {@link StreamSpec} to
 * {@link openStream}; a {@link StreamSession} owns everything after that.
 */
import type { ServerResponse } from "node:http";
import {
  type Delivery,
  type DeliverySink,
  type EventBus,
  type EventType,
  HistoryDisabledError,
  type SubscribeOptions,
  type Subscription,
} from "@eventbus/core";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { GatewaySettings } from "./config.js";
import { InternalError, NotReadyError, TokenExpiredError } from "./errors.js";
import type { Guard } from "./guard.js";
import { hijackLongLived } from "./hijack.js";
import { toHttpError } from "./http-errors.js";
import type { StreamQuota } from "./limits.js";
import type { GatewayMetrics } from "./metrics.js";
import type { TargetKind } from "./routes/target.js";
import { type SseEndReason, SseStream } from "./sse.js";
import type { OpenStream, OpenStreams } from "./streams.js";
import { at } from "./timer.js";

/** How long a client that stopped reading gets to read a stream's end before it is cut off. */
const END_GRACE_MS = 5_000;

/** What the stream routes need from the gateway. */
export interface StreamDependencies {
  readonly bus: EventBus;
  readonly guard: Guard;
  readonly streams: OpenStreams;
  readonly metrics: GatewayMetrics;
  readonly settings: GatewaySettings;
  /** How many streams each client may hold open. */
  readonly quota: StreamQuota;
  /**
   * The gateway's logger. A stream logs through it with its request's `reqId`
   * rather than keep the request's child logger (about 0.2 KB) open with it;
   * the lines are the same.
   */
  readonly log: FastifyBaseLogger;
}

/** One channel a stream follows, where it resumes from, and how its deliveries are written as SSE messages. */
export interface StreamFeed {
  readonly channel: string;
  /** Resume after this position (history on); ignored by a bus without history. */
  readonly since?: string | undefined;
  /** The SSE message of an event, the channel's start or a gap; `undefined` writes nothing. */
  readonly frame: (delivery: Delivery) => string | undefined;
}

/**
 * What {@link openStream} opens: the channels, when the client's token
 * expires and its `?types=` filter. The route has checked the client's
 * access; an open stream keeps only the expiry of it.
 */
export interface StreamSpec {
  /** The `kind` label of the open-streams gauge. */
  readonly kind: TargetKind | "multi";
  readonly feeds: readonly StreamFeed[];
  /** The token's `exp` (the stream then ends with `GATEWAY_TOKEN_EXPIRED`); none without access control. */
  readonly expiresAt: Date | undefined;
  readonly types: ReadonlySet<EventType> | undefined;
}

/**
 * How a stream ends: cleanly, after an optional comment (the client left, a
 * subscription closed, shutdown; the client may reconnect), or with a reason
 * the client is told of as an `event: error` message (an expired token, a
 * slow consumer, a failed subscription).
 */
export type StreamEnd =
  | { readonly kind: "clean"; readonly comment?: string }
  | { readonly kind: "failed"; readonly reason: SseEndReason };

/**
 * Serves a stream route's response: one bus subscription per feed, the 200
 * and `retry:` hint once every one is confirmed, then each event as its feed
 * frames it, until the client leaves, the token expires, a subscription fails
 * or the gateway shuts down. Counts against the client's stream quota while open.
 *
 * @throws {NotReadyError} while the bus is disconnected, before or while subscribing.
 * @throws {TooManyStreamsError} when the client holds its quota of streams already.
 */
export async function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: StreamDependencies,
  spec: StreamSpec,
): Promise<void> {
  // A stream answers 200 only while the bus can deliver to it.
  await deps.bus.ready;
  assertConnected(deps.bus);
  const session = new StreamSession(request, reply.raw, deps, spec);
  try {
    await session.subscribed();
    // A channel already subscribed is ready at once, even while the bus is down.
    assertConnected(deps.bus);
  } catch (error) {
    session.finish({ kind: "clean" });
    throw error;
  }
  session.start(reply);
}

/**
 * One stream's subscriptions, SSE writer, token expiry, quota share and
 * metrics. Whatever ends it (the client leaving, the token expiring, a
 * subscription failing or closing, shutdown) goes through {@link finish},
 * once; the quota share, the gauge and the log line are settled when the
 * connection has closed.
 *
 * It is the push-style sink of its subscriptions: the bus hands it each
 * delivery as it arrives and it writes the frame at once (the frame of an
 * event is formatted once for all streams, see `Frames`), with no promise or
 * microtask per event. When the socket's buffer is full the subscriptions
 * buffer what follows, up to their bound, until the response's `drain`. An
 * idle stream holds this object, its subscriptions, its `SseStream` and one
 * `close` listener (see docs/performance.md, section 7).
 */
export class StreamSession implements DeliverySink, OpenStream {
  readonly #deps: StreamDependencies;
  readonly #spec: StreamSpec;
  readonly #res: ServerResponse;
  /** The request's id, which each log line carries as the request's own logger would. */
  readonly #reqId: string;
  /** One subscription per feed, in the order of `spec.feeds`. */
  readonly #subs: readonly Subscription[];
  /** Whose quota the stream counts against (given back once, see {@link finish} and #connectionClosed). */
  readonly #client: string;
  #sse: SseStream | undefined;
  /** When Fastify received the request, on `performance.now()`'s clock (for "request completed"). */
  #requestStart = 0;
  #cancelExpiry: (() => void) | undefined;
  #ended = false;
  #awaitingDrain = false;

  /**
   * Takes a share of the client's quota and subscribes each feed; the
   * response is untouched until {@link start}.
   * @throws {TooManyStreamsError} when the client holds its quota already.
   */
  constructor(
    request: FastifyRequest,
    res: ServerResponse,
    deps: StreamDependencies,
    spec: StreamSpec,
  ) {
    this.#res = res;
    this.#deps = deps;
    this.#spec = spec;
    this.#reqId = request.id;
    this.#client = deps.guard.clientOf(request);
    deps.quota.acquire(this.#client);
    try {
      this.#subs = subscribeFeeds(deps, spec.feeds);
    } catch (error) {
      deps.quota.release(this.#client);
      throw error;
    }
    // 'close' is emitted once: `on` spares the wrapper that `once` allocates. The listener's
    // scope holds `this` only, not what the constructor was given.
    res.on("close", () => this.#connectionClosed());
  }

  /** Settles when every subscription is confirmed, or rejects with why one failed. */
  async subscribed(): Promise<void> {
    await Promise.all(this.#subs.map((sub) => sub.ready));
  }

  /**
   * Takes the response over from Fastify, which then holds nothing of the
   * request (see `hijackLongLived`), and starts the stream: the headers set
   * so far (CORS, by its plugin) with the stream's own, the `retry:` hint,
   * then events until {@link finish}. A client gone already ends it at once.
   */
  start(reply: FastifyReply): void {
    const res = hijackLongLived(reply);
    this.#requestStart = performance.now() - reply.elapsedTime;
    if (this.#ended) return;
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) res.setHeader(name, value);
    }
    this.#sse = new SseStream(res, { retryMs: this.#deps.settings.retryMs, graceMs: END_GRACE_MS });
    this.#deps.metrics.openStreams.inc({ kind: this.#spec.kind });
    this.#log("info", this.#channels(), "stream opened");
    const expiresAt = this.#spec.expiresAt;
    if (expiresAt !== undefined) {
      this.#cancelExpiry = at(expiresAt, () =>
        this.finish({ kind: "failed", reason: endReasonOf(new TokenExpiredError()) }),
      );
    }
    // What each subscription buffered since it was confirmed is written first.
    for (const sub of this.#subs) if (!this.#ended) sub.consume(this);
    // Last, as during shutdown it ends the stream at once.
    this.#deps.streams.add(this);
  }

  /**
   * Ends the stream: stops the expiry timer and every subscription, then ends
   * the SSE response as `how` says (nothing is written to a client that left).
   * Before {@link start} it gives the quota share back at once. Idempotent.
   */
  finish(how: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cancelExpiry?.();
    for (const sub of this.#subs) sub.unsubscribe();
    const sse = this.#sse;
    if (sse === undefined) this.#deps.quota.release(this.#client);
    else if (how.kind === "failed") sse.fail(how.reason);
    else sse.end(how.comment);
  }

  /**
   * Writes one delivery of a feed (an event, and with history the channel's
   * start or a gap) as the feed frames it, skipping events of other types
   * than `?types=` names and events that cannot be encoded. Returns false
   * when the socket's buffer is full: the subscriptions then hold what
   * follows until it drains.
   */
  deliver(delivery: Delivery): boolean {
    const sse = this.#sse;
    if (sse === undefined || !sse.isOpen) return false;
    const isEvent = delivery.kind === "event";
    const types = this.#spec.types;
    if (isEvent && types !== undefined && !types.has(delivery.event.type)) return true;
    let frame: string | undefined;
    try {
      frame = this.#feedOf(delivery.channel).frame(delivery);
    } catch (error) {
      // This stream's failure, not the bus's: the other streams go on.
      this.finish({ kind: "failed", reason: endReasonOf(error) });
      return false;
    }
    if (frame === undefined) return true;
    const written = sse.send(frame);
    if (isEvent) this.#deps.metrics.eventSent();
    if (!written) this.#resumeOnDrain();
    return written;
  }

  /**
   * A subscription ended, which ends the stream: cleanly (the bus closed), or
   * with the reason it failed (a slow consumer: what it buffered and the
   * event that overflowed will never be sent).
   */
  end(error: Error | undefined): void {
    if (error === undefined || this.#ended) {
      this.finish({ kind: "clean" });
      return;
    }
    let dropped = 1;
    for (const sub of this.#subs) dropped += sub.pending;
    this.#deps.metrics.eventsDropped.inc(dropped);
    this.#log("warn", { ...this.#channels(), err: error }, "stream ended by its subscription");
    this.finish({ kind: "failed", reason: endReasonOf(error) });
  }

  /** Writes a message even if the socket's buffer is full (a bus status note to every stream). */
  send(formatted: string): void {
    this.#sse?.send(formatted);
  }

  /** Writes a comment unless the socket's buffer is full (the heartbeat). */
  comment(text: string): void {
    this.#sse?.comment(text);
  }

  /**
   * Ends the stream cleanly after `comment`, then closes its connection once
   * that is written (shutdown: Node's `server.close()` closes the connections
   * of the streams ended before it runs, not of one ended after).
   */
  endWith(comment: string): void {
    this.finish({ kind: "clean", comment });
    const res = this.#res;
    const socket = res.socket;
    if (socket === null) return;
    if (res.writableFinished) socket.destroy();
    else res.once("finish", () => socket.destroy());
  }

  /** The feed a delivery belongs to: each feed is one subscription of its one channel. */
  #feedOf(channel: string): StreamFeed {
    const feeds = this.#spec.feeds;
    const only = feeds.length === 1 ? feeds[0] : feeds.find((feed) => feed.channel === channel);
    if (only === undefined)
      throw new InternalError({ cause: `no feed of ${channel} on this stream` });
    return only;
  }

  /** Once the socket's buffer has room again, each subscription hands over what it held. */
  #resumeOnDrain(): void {
    if (this.#awaitingDrain) return;
    this.#awaitingDrain = true;
    this.#res.once("drain", () => {
      this.#awaitingDrain = false;
      for (const sub of this.#subs) sub.resume();
    });
  }

  /** The connection has closed: the stream ends, and once started, the quota share back, the gauge down, a log line. */
  #connectionClosed(): void {
    const sse = this.#sse;
    sse?.closed();
    this.finish({ kind: "clean" });
    if (sse === undefined) return;
    const res = this.#res;
    if (res.writableFinished) {
      // The line Fastify would have logged at `finish` (see `hijackLongLived`).
      const responseTime = performance.now() - this.#requestStart;
      this.#log("info", { res, responseTime }, "request completed");
    }
    this.#deps.streams.delete(this);
    this.#deps.quota.release(this.#client);
    this.#deps.metrics.openStreams.dec({ kind: this.#spec.kind });
    this.#log(
      "info",
      { ...this.#channels(), reason: sse.endReason?.code ?? "closed" },
      "stream closed",
    );
  }

  /** Writes a log line with the request's `reqId` first, as Fastify's child logger of the request would. */
  #log(level: "info" | "warn", fields: object, message: string): void {
    this.#deps.log[level]({ reqId: this.#reqId, ...fields }, message);
  }

  /** The log fields naming the stream's channels. */
  #channels(): { readonly channel: string } | { readonly channels: readonly string[] } {
    const feeds = this.#spec.feeds;
    const [only] = feeds;
    return feeds.length === 1 && only !== undefined
      ? { channel: only.channel }
      : { channels: feeds.map((feed) => feed.channel) };
  }
}

/**
 * One subscription per feed, each with the gateway's stream buffer and the
 * slow-consumer rule; none is left subscribed if one cannot be made.
 */
function subscribeFeeds(deps: StreamDependencies, feeds: readonly StreamFeed[]): Subscription[] {
  const options: SubscribeOptions = { bufferSize: deps.settings.streamBuffer, overflow: "error" };
  const made: Subscription[] = [];
  try {
    // `map` sizes the array the stream keeps; `made` (grown by push, with room to spare) is dropped.
    return feeds.map((feed) => {
      const sub = subscribeFeed(deps.bus, feed, options);
      made.push(sub);
      return sub;
    });
  } catch (error) {
    for (const sub of made) sub.unsubscribe();
    throw error;
  }
}

/**
 * The bus subscription of one feed, resuming after `feed.since` when given.
 * @throws {InvalidPositionError} `feed.since` is not a position (routes pass only positions).
 */
function subscribeFeed(bus: EventBus, feed: StreamFeed, options: SubscribeOptions): Subscription {
  if (feed.since === undefined) return bus.subscribe([feed.channel], options);
  try {
    return bus.subscribe([feed.channel], { ...options, since: feed.since });
  } catch (error) {
    // A bus without history keeps nothing to resume from: the stream starts live, as without it.
    if (error instanceof HistoryDisabledError) return bus.subscribe([feed.channel], options);
    throw error;
  }
}

/** The code and message a client is told when its stream ends because of `error`. */
function endReasonOf(error: unknown): SseEndReason {
  return toHttpError(error).body.error;
}

/**
 * @throws {NotReadyError} while the bus's transport is disconnected: a stream
 * opened then would look live and receive nothing.
 */
function assertConnected(bus: EventBus): void {
  if (!bus.connected) {
    throw new NotReadyError("the gateway is not connected to the bus; try again later");
  }
}
