/**
 * One open SSE stream, from its subscriptions to its last write: the stream
 * routes authorize and parse, then hand a {@link StreamSpec} to
 * {@link openStream}; a {@link StreamSession} owns everything after that.
 */
import {
  type Delivery,
  type EventBus,
  type EventType,
  HistoryDisabledError,
  type SubscribeOptions,
  type Subscription,
} from "@eventbus/core";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Access } from "./access.js";
import type { GatewaySettings } from "./config.js";
import { NotReadyError, TokenExpiredError } from "./errors.js";
import type { Guard } from "./guard.js";
import { toHttpError } from "./http-errors.js";
import type { StreamQuota } from "./limits.js";
import type { GatewayMetrics } from "./metrics.js";
import type { TargetKind } from "./routes/target.js";
import { type SseEndReason, SseStream } from "./sse.js";
import type { OpenStreams } from "./streams.js";
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
}

/** One channel a stream follows, where it resumes from, and how its deliveries are written as SSE messages. */
export interface StreamFeed {
  readonly channel: string;
  /** Resume after this position (history on); ignored by a bus without history. */
  readonly since?: string | undefined;
  /** The SSE message of an event, the channel's start or a gap; `undefined` writes nothing. */
  readonly frame: (delivery: Delivery) => string | undefined;
}

/** What {@link openStream} opens: the channels, the client's access and its `?types=` filter. */
export interface StreamSpec {
  /** The `kind` label of the open-streams gauge. */
  readonly kind: TargetKind | "multi";
  readonly feeds: readonly StreamFeed[];
  readonly access: Access;
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
  const session = new StreamSession(request, reply, deps, spec);
  try {
    await session.subscribed;
    // A channel already subscribed is ready at once, even while the bus is down.
    assertConnected(deps.bus);
  } catch (error) {
    session.end({ kind: "clean" });
    throw error;
  }
  session.start();
}

/**
 * One stream's subscriptions, SSE writer, token expiry, quota share and
 * metrics. Whatever ends it (the client leaving, the token expiring, a
 * subscription failing or closing, shutdown) goes through {@link end}, once;
 * the quota share, the gauge and the log line are settled when the
 * connection has closed.
 */
export class StreamSession {
  /** Settles when every subscription is confirmed, or rejects with why one failed. */
  readonly subscribed: Promise<void>;
  readonly #deps: StreamDependencies;
  readonly #spec: StreamSpec;
  readonly #reply: FastifyReply;
  readonly #log: FastifyBaseLogger;
  readonly #left = new AbortController();
  readonly #subs: readonly { readonly feed: StreamFeed; readonly sub: Subscription }[];
  readonly #release: () => void;
  #sse: SseStream | undefined;
  #cancelExpiry: (() => void) | undefined;
  #ended = false;

  /**
   * Takes a share of the client's quota and subscribes each feed; the
   * response is untouched until {@link start}.
   * @throws {TooManyStreamsError} when the client holds its quota already.
   */
  constructor(
    request: FastifyRequest,
    reply: FastifyReply,
    deps: StreamDependencies,
    spec: StreamSpec,
  ) {
    this.#reply = reply;
    this.#deps = deps;
    this.#spec = spec;
    this.#release = deps.quota.acquire(deps.guard.clientOf(request));
    reply.raw.once("close", () => this.#left.abort());
    const channels = spec.feeds.map((feed) => feed.channel);
    this.#log = request.log.child(channels.length === 1 ? { channel: channels[0] } : { channels });
    const options: SubscribeOptions = {
      signal: this.#left.signal,
      bufferSize: deps.settings.streamBuffer,
      overflow: "error",
    };
    this.#subs = spec.feeds.map((feed) => ({ feed, sub: subscribeFeed(deps.bus, feed, options) }));
    this.subscribed = Promise.all(this.#subs.map(({ sub }) => sub.ready)).then(() => undefined);
  }

  /**
   * Takes the response over from Fastify and starts the stream: the headers
   * set so far (CORS, by its plugin) with the stream's own, the `retry:` hint,
   * then events until {@link end}. A client gone already ends it at once.
   */
  start(): void {
    const reply = this.#reply;
    reply.hijack();
    if (this.#left.signal.aborted) {
      this.end({ kind: "clean" });
      return;
    }
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    const sse = new SseStream(reply.raw, {
      retryMs: this.#deps.settings.retryMs,
      graceMs: END_GRACE_MS,
    });
    this.#sse = sse;
    this.#deps.streams.add(sse, (comment) => this.end({ kind: "clean", comment }));
    this.#deps.metrics.openStreams.inc({ kind: this.#spec.kind });
    this.#log.info("stream opened");
    sse.closed.then(() => {
      this.end({ kind: "clean" });
      this.#settle();
    });
    const expiresAt = this.#spec.access.expiresAt;
    if (expiresAt !== undefined) {
      this.#cancelExpiry = at(expiresAt, () =>
        this.end({ kind: "failed", reason: endReasonOf(new TokenExpiredError()) }),
      );
    }
    for (const { feed, sub } of this.#subs) this.#follow(sub, feed, sse);
  }

  /**
   * Ends the stream: stops the expiry timer and every subscription, then ends
   * the SSE response as `how` says (nothing is written to a client that left).
   * Before {@link start} it gives the quota share back at once. Idempotent.
   */
  end(how: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cancelExpiry?.();
    for (const { sub } of this.#subs) sub.unsubscribe();
    const sse = this.#sse;
    if (sse === undefined) this.#release();
    else if (how.kind === "failed") sse.fail(how.reason);
    else sse.end(how.comment);
  }

  /** Once the connection has closed: the quota share back, the gauge down, a log line. */
  #settle(): void {
    this.#release();
    this.#deps.metrics.openStreams.dec({ kind: this.#spec.kind });
    this.#log.info({ reason: this.#sse?.endReason?.code ?? "closed" }, "stream closed");
  }

  /**
   * Writes each delivery of `sub` (events, and with history the channel's
   * start and any gap) as its feed frames it, waiting for the socket to drain
   * when its buffer is full (the subscription buffers meanwhile, up to its
   * bound), skipping events of other types than `?types=` names and events
   * that cannot be encoded. A subscription that closes ends the stream.
   */
  #follow(sub: Subscription, feed: StreamFeed, sse: SseStream): void {
    const { metrics } = this.#deps;
    const types = this.#spec.types;
    sub.closed.then((error) => {
      if (error === undefined) {
        this.end({ kind: "clean" });
        return;
      }
      // The event that overflowed and those still buffered will never be sent.
      metrics.eventsDropped.inc(sub.pending + 1);
      this.#log.warn({ err: error }, "stream ended by its subscription");
      this.end({ kind: "failed", reason: endReasonOf(error) });
    });
    const pump = async (): Promise<void> => {
      for await (const delivery of sub.deliveries()) {
        if (!sse.isOpen) break;
        const isEvent = delivery.kind === "event";
        if (isEvent && types !== undefined && !types.has(delivery.event.type)) continue;
        const frame = feed.frame(delivery);
        if (frame === undefined) continue;
        const written = sse.send(frame);
        if (isEvent) metrics.eventsSent.inc();
        if (!written) await sse.drained();
      }
    };
    // A failed subscription also throws here, after `sub.closed` reported it; ending again is a no-op.
    pump().catch((error: unknown) => this.end({ kind: "failed", reason: endReasonOf(error) }));
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
