/**
 * GET /v1/projects/{projectId}/events and GET /v1/agents/{agentId}/events:
 * follow a channel live over Server-Sent Events. {@link openStream} serves
 * every stream route's response, this file's and the multi-channel one's.
 */
import {
  type Event,
  type EventBus,
  type EventType,
  encodeEvent,
  type Subscription,
} from "@eventbus/core";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Access } from "../access.js";
import type { GatewaySettings } from "../config.js";
import { NotReadyError, TokenExpiredError } from "../errors.js";
import type { Guard } from "../guard.js";
import { toHttpError } from "../http-errors.js";
import { parseRequestPart, StreamQuerySchema, typesQueryOf } from "../http-schemas.js";
import type { StreamQuota } from "../limits.js";
import type { GatewayMetrics } from "../metrics.js";
import { formatMessage, type SseEndReason, SseStream } from "../sse.js";
import type { OpenStreams } from "../streams.js";
import { EVENTS_ROUTE, type TargetKind, targetOf } from "./target.js";

/** How long a client that stopped reading gets to read a stream's end before it is cut off. */
const END_GRACE_MS = 5_000;

/** Timers take at most 2^31 - 1 ms; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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

/**
 * Registers both stream routes. Each stream is one bus subscription; the bus
 * subscribes a channel at the server once however many streams follow it. The
 * response starts (200 and the `retry:` hint) only once the subscription is
 * confirmed, so a client that sees it open receives every event published
 * from then on; while the bus is disconnected it is refused with 503
 * (`GATEWAY_NOT_READY`), and open streams hear of the outage (`event:
 * disconnected`, then `event: reconnected` with the downtime). A stream ends
 * when the client leaves, the token expires
 * (`event: error`, `GATEWAY_TOKEN_EXPIRED`), the client falls `streamBuffer`
 * events behind (`event: error`, `EVENTBUS_SLOW_CONSUMER`), or the gateway
 * shuts down (a comment, then the end).
 */
export function registerStreamRoutes(app: FastifyInstance, deps: StreamDependencies): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const frames = new Frames(app.log);
  const frame = (event: Event): string | undefined => frames.of(event, formatEvent);
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    // No automatic HEAD route: a HEAD request would hold a stream open that sends nothing.
    app.get(EVENTS_ROUTE[kind], { onRequest, exposeHeadRoute: false }, async (request, reply) => {
      const { address, channel } = targetOf(deps.bus, kind, request.params);
      const access = deps.guard.accessOf(request);
      access.assertRead(address);
      const { types } = parseRequestPart("query", StreamQuerySchema, typesQueryOf(request.query));
      await openStream(request, reply, deps, { kind, access, types, feeds: [{ channel, frame }] });
    });
  }
}

/** One channel a stream follows, and how its events are written as SSE messages. */
export interface StreamFeed {
  readonly channel: string;
  readonly frame: (event: Event) => string | undefined;
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
 * Serves a stream route's response: one bus subscription per feed, the 200
 * and `retry:` hint once every one is confirmed, then each event as its feed
 * frames it, until the client leaves, the token expires, a subscription fails
 * or the gateway shuts down. Counts against the client's stream quota while open.
 *
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
  const release = deps.quota.acquire(deps.guard.clientOf(request));
  const left = new AbortController();
  reply.raw.once("close", () => left.abort());
  const followed = spec.feeds.map((feed) => ({
    feed,
    sub: deps.bus.subscribe([feed.channel], {
      signal: left.signal,
      bufferSize: deps.settings.streamBuffer,
      overflow: "error",
    }),
  }));
  try {
    await Promise.all(followed.map(({ sub }) => sub.ready));
    // A channel already subscribed is ready at once, even while the bus is down.
    assertConnected(deps.bus);
  } catch (error) {
    for (const { sub } of followed) sub.unsubscribe();
    release();
    throw error;
  }
  reply.hijack();
  if (left.signal.aborted) {
    release();
    return;
  }
  // Headers set before the hijack (CORS, by its plugin) go out with the stream's own.
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  const stream = new SseStream(reply.raw, {
    retryMs: deps.settings.retryMs,
    graceMs: END_GRACE_MS,
  });
  deps.streams.add(stream);
  deps.metrics.openStreams.inc({ kind: spec.kind });
  const channels = spec.feeds.map((feed) => feed.channel);
  const log = request.log.child(channels.length === 1 ? { channel: channels[0] } : { channels });
  log.info("stream opened");
  const cancelExpiry =
    spec.access.expiresAt === undefined
      ? undefined
      : at(spec.access.expiresAt, () => stream.fail(new TokenExpiredError()));
  stream.closed.then(() => {
    release();
    cancelExpiry?.();
    deps.metrics.openStreams.dec({ kind: spec.kind });
    log.info({ reason: stream.endReason?.code ?? "closed" }, "stream closed");
  });
  for (const { feed, sub } of followed) {
    follow(sub, stream, {
      types: spec.types,
      frame: feed.frame,
      metrics: deps.metrics,
      log,
    });
  }
}

/**
 * Writes each event of `sub` to `stream` as its `frame` formats it, waiting
 * for the socket to drain when its buffer is full (the subscription buffers
 * meanwhile, up to its bound). Ends the stream with the reason when the
 * subscription fails, and ends the subscription when the stream closes.
 */
function follow(
  sub: Subscription,
  stream: SseStream,
  options: {
    readonly types: ReadonlySet<EventType> | undefined;
    readonly frame: (event: Event) => string | undefined;
    readonly metrics: GatewayMetrics;
    readonly log: FastifyBaseLogger;
  },
): void {
  sub.closed.then((error) => {
    if (error === undefined) {
      stream.end();
      return;
    }
    // The event that overflowed and those still buffered will never be sent.
    options.metrics.eventsDropped.inc(sub.pending + 1);
    options.log.warn({ err: error }, "stream ended by its subscription");
    stream.fail(endReasonOf(error));
  });
  stream.closed.then(() => sub.unsubscribe());
  const pump = async (): Promise<void> => {
    for await (const event of sub) {
      if (!stream.isOpen) break;
      if (options.types !== undefined && !options.types.has(event.type)) continue;
      const frame = options.frame(event);
      if (frame === undefined) continue;
      const written = stream.send(frame);
      options.metrics.eventsSent.inc();
      if (!written) await stream.drained();
    }
  };
  // A failed subscription also throws here, after `sub.closed` reported it; failing again is a no-op.
  pump().catch((error: unknown) => stream.fail(endReasonOf(error)));
}

/** The code and message a client is told when its stream ends because of `error`. */
function endReasonOf(error: unknown): SseEndReason {
  return toHttpError(error).body.error;
}

/** An event's SSE message on a one-channel stream: `event:` its type, `id:` its id, `data:` the wire JSON. */
function formatEvent(event: Event): string {
  return formatMessage({ event: event.type, id: event.id, data: encodeEvent(event) });
}

/**
 * Each event's SSE message, formatted once however many streams send it: the
 * bus hands every subscriber of a channel the same event object (one object
 * per channel and message), so the per-stream work on the delivery path is a
 * lookup and a socket write. One instance per message format.
 */
export class Frames {
  /** The frame of each event seen, or `null` for one that could not be encoded. */
  readonly #byEvent = new WeakMap<Event, string | null>();
  readonly #log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.#log = log;
  }

  /**
   * The message of `event` as `format` writes it, formatted on first use; or
   * `undefined` if it cannot be encoded, and then the streams skip it and go
   * on. The bus decodes only events that encode, so that takes code sharing
   * the bus that changed a delivered event (they are shared, not copied); it
   * is logged once per event, not once per stream.
   */
  of(event: Event, format: (event: Event) => string): string | undefined {
    let frame = this.#byEvent.get(event);
    if (frame === undefined) {
      try {
        frame = format(event);
      } catch (error) {
        frame = null;
        this.#log.error({ err: error, id: event.id }, "event skipped: it cannot be encoded");
      }
      this.#byEvent.set(event, frame);
    }
    return frame ?? undefined;
  }
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

/** Runs `task` at `date` (at once if it has passed); returns a function that cancels it. */
function at(date: Date, task: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = date.getTime() - Date.now();
    if (delay <= 0) {
      task();
      return;
    }
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS)).unref();
  };
  arm();
  return () => clearTimeout(timer);
}
