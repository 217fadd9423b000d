/**
 * GET /v1/projects/{projectId}/events and GET /v1/agents/{agentId}/events:
 * follow a channel live over Server-Sent Events.
 */
import {
  EVENT_TYPES,
  type Event,
  type EventBus,
  type EventType,
  encodeEvent,
  type Subscription,
} from "@eventbus/core";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { GatewaySettings } from "../config.js";
import { NotReadyError, TokenExpiredError } from "../errors.js";
import type { Guard } from "../guard.js";
import { invalidParameter, toHttpError } from "../http-errors.js";
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
}

/**
 * Registers both stream routes. Each stream is one bus subscription; the bus
 * subscribes a channel at the server once however many streams follow it. The
 * response starts (200 and the `retry:` hint) only once the subscription is
 * confirmed, so a client that sees it open receives every event published
 * from then on; while the bus is disconnected it is refused with 503
 * (`GATEWAY_NOT_READY`), and open streams hear of the outage (`event:
 * disconnected`, then `event: reconnected` with the downtime). A stream ends when the client leaves, the token expires
 * (`event: error`, `GATEWAY_TOKEN_EXPIRED`), the client falls `streamBuffer`
 * events behind (`event: error`, `EVENTBUS_SLOW_CONSUMER`), or the gateway
 * shuts down (a comment, then the end).
 */
export function registerStreamRoutes(app: FastifyInstance, deps: StreamDependencies): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const frames = new Frames(app.log);
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    // No automatic HEAD route: a HEAD request would hold a stream open that sends nothing.
    app.get(EVENTS_ROUTE[kind], { onRequest, exposeHeadRoute: false }, async (request, reply) => {
      const { address, channel } = targetOf(deps.bus, kind, request.params);
      const access = deps.guard.accessOf(request);
      access.assertRead(address);
      const types = typesOf(request.query);
      // A stream answers 200 only while the bus can deliver to it.
      await deps.bus.ready;
      assertConnected(deps.bus);
      const left = new AbortController();
      reply.raw.once("close", () => left.abort());
      const sub = deps.bus.subscribe([channel], {
        signal: left.signal,
        bufferSize: deps.settings.streamBuffer,
        overflow: "error",
      });
      await sub.ready;
      // A channel already subscribed is ready at once, even while the bus is down.
      if (!deps.bus.connected) sub.unsubscribe();
      assertConnected(deps.bus);
      reply.hijack();
      if (left.signal.aborted) return;
      const stream = new SseStream(reply.raw, {
        retryMs: deps.settings.retryMs,
        graceMs: END_GRACE_MS,
      });
      deps.streams.add(stream);
      deps.metrics.openStreams.inc({ kind });
      const log = request.log.child({ channel });
      log.info("stream opened");
      stream.closed.then(() => {
        deps.metrics.openStreams.dec({ kind });
        log.info({ reason: stream.endReason?.code ?? "closed" }, "stream closed");
      });
      follow(sub, stream, {
        types,
        expiresAt: access.expiresAt,
        frames,
        metrics: deps.metrics,
        log,
      });
    });
  }
}

/**
 * Writes each event of `sub` to `stream` as `event: <type>`, `id: <id>`,
 * `data: <wire JSON>`, waiting for the socket to drain when its buffer is
 * full (the subscription buffers meanwhile, up to its bound). Ends the stream
 * with the reason when the subscription fails or the token expires, and ends
 * the subscription when the stream closes.
 */
function follow(
  sub: Subscription,
  stream: SseStream,
  options: {
    readonly types: ReadonlySet<EventType> | undefined;
    readonly expiresAt: Date | undefined;
    readonly frames: Frames;
    readonly metrics: GatewayMetrics;
    readonly log: FastifyBaseLogger;
  },
): void {
  const cancelExpiry =
    options.expiresAt === undefined
      ? undefined
      : at(options.expiresAt, () => stream.fail(new TokenExpiredError()));
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
  stream.closed.then(() => {
    sub.unsubscribe();
    cancelExpiry?.();
  });
  const pump = async (): Promise<void> => {
    for await (const event of sub) {
      if (!stream.isOpen) break;
      if (options.types !== undefined && !options.types.has(event.type)) continue;
      const frame = options.frames.of(event);
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

/**
 * Each event's SSE message, formatted once however many streams send it: the
 * bus hands every subscriber of a channel the same event object, so the
 * per-stream work on the delivery path is a lookup and a socket write.
 */
class Frames {
  /** The frame of each event seen, or `null` for one that could not be encoded. */
  readonly #byEvent = new WeakMap<Event, string | null>();
  readonly #log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.#log = log;
  }

  /**
   * The event's SSE message, or `undefined` if it cannot be encoded; then the
   * streams skip it and go on. The bus decodes only events that encode, so
   * that takes code sharing the bus that changed a delivered event (they are
   * shared, not copied); it is logged once per event, not once per stream.
   */
  of(event: Event): string | undefined {
    let frame = this.#byEvent.get(event);
    if (frame === undefined) {
      try {
        frame = formatMessage({ event: event.type, id: event.id, data: encodeEvent(event) });
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

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The query parameters that carry the `?types=` filter: `types`, and `types[]` as array-minded clients (axios, qs) write it. */
const TYPES_PARAMS: ReadonlySet<string> = new Set(["types", "types[]"]);

/** Names that look like the filter but are not it (`type=`, `types[0]=`, `Types=`): refused, not ignored. */
const TYPES_LOOKALIKE = /^types?(\[.*\])?$/i;

/**
 * The `?types=` filter: event types separated by commas (the parameter may
 * also repeat, or be spelled `types[]`). `undefined` when absent or empty:
 * every type.
 *
 * @throws {InvalidRequestError} naming an unknown type, or a parameter that
 * looks like the filter but is not it (a stream that ignored it would carry
 * every type).
 */
function typesOf(query: unknown): ReadonlySet<EventType> | undefined {
  const fields = (query ?? {}) as Record<string, string | string[] | undefined>;
  const values: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (TYPES_PARAMS.has(name)) {
      if (value !== undefined) values.push(...[value].flat());
    } else if (TYPES_LOOKALIKE.test(name)) {
      throw invalidParameter(
        "query",
        name,
        `unknown query parameter; filter with types=a,b (or repeat types=)`,
      );
    }
  }
  const names = values
    .flatMap((value) => value.split(","))
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) return undefined;
  const unknown = names.filter((name) => !KNOWN_TYPES.has(name));
  if (unknown.length > 0) {
    throw invalidParameter(
      "query",
      "types",
      `unknown event type ${unknown.map((name) => JSON.stringify(name)).join(", ")}; expected some of ${EVENT_TYPES.join(", ")}`,
    );
  }
  return new Set(names as EventType[]);
}
