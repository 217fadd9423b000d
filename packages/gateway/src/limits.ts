/**
 * Per-client limits: how often a client may publish (@fastify/rate-limit,
 * answering 429 with `Retry-After`), how many streams it may hold open, and
 * how many channels one stream may follow. A client is its token when access
 * control is on, else its address ({@link Guard.clientOf}). Limits are per
 * gateway process: N gateways behind a balancer allow up to N times as much.
 */
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, onRequestAsyncHookHandler, preParsingHookHandler } from "fastify";
import { RateLimitedError, TooManyStreamsError } from "./errors.js";
import type { Guard } from "./guard.js";
import type { GatewayMetrics } from "./metrics.js";

/** The limits of a gateway; 0 turns the first three off. */
export interface LimitSettings {
  /** Publishes one client may make per window; 0: no limit. */
  readonly publishRate: number;
  /** The publish rate's window, in milliseconds. */
  readonly publishRateWindowMs: number;
  /** Streams one client may hold open at once; 0: no limit. */
  readonly streamsPerClient: number;
  /** Channels one multi-channel stream (`GET /v1/events`) may follow. */
  readonly channelsPerStream: number;
}

/** The defaults of {@link LimitSettings}: no rate or stream limit, 64 channels per stream. */
export const DEFAULT_LIMITS: LimitSettings = {
  publishRate: 0,
  publishRateWindowMs: 60_000,
  streamsPerClient: 0,
  channelsPerStream: 64,
};

/**
 * Limits the publish routes (`POST` on `/v1/...`) to `publishRate` requests
 * per client and window, counted after the token is verified (so the count is
 * per token) and before the body is read. A refused publish answers 429
 * `GATEWAY_RATE_LIMITED` with `Retry-After` in seconds, and counts in
 * `eventbus_publish_rate_limited_total`. Call before the routes are declared.
 */
export function limitPublishRate(
  app: FastifyInstance,
  options: {
    readonly limits: LimitSettings;
    readonly guard: Guard;
    readonly metrics: GatewayMetrics;
  },
): void {
  const { publishRate, publishRateWindowMs } = options.limits;
  if (publishRate === 0) return;
  app.register(rateLimit, {
    global: false,
    max: publishRate,
    timeWindow: publishRateWindowMs,
    keyGenerator: (request) => options.guard.clientOf(request),
    onExceeded: () => options.metrics.publishesRateLimited.inc(),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `at most ${context.max} publishes per ${publishRateWindowMs / 1000} s; retry in ${context.after}`,
      ),
  });
  // The plugin's limiter exists once the plugin has loaded, which is after the routes are declared.
  let limit: onRequestAsyncHookHandler | undefined;
  app.after(() => {
    limit = app.rateLimit() as onRequestAsyncHookHandler;
  });
  const hook: preParsingHookHandler = async (request, reply, payload) => {
    await limit?.call(app, request, reply);
    return payload;
  };
  app.addHook("onRoute", (route) => {
    if (route.method !== "POST" || !route.url.startsWith("/v1/")) return;
    route.preParsing = [route.preParsing ?? [], hook].flat();
  });
}

/**
 * Counts each client's open streams. {@link acquire} refuses a client at its
 * quota; a client's entry leaves when its last stream closes, so the map holds
 * only clients with a stream open.
 */
export class StreamQuota {
  readonly #max: number;
  readonly #open = new Map<string, number>();
  readonly #metrics: GatewayMetrics;

  /** `max` 0: no limit. Refusals and the number of clients with a stream open go to `metrics`. */
  constructor(max: number, metrics: GatewayMetrics) {
    this.#max = max;
    this.#metrics = metrics;
  }

  /**
   * Takes one stream of `client`'s quota; {@link release} gives it back.
   * @throws {TooManyStreamsError} when the client holds its quota already.
   */
  acquire(client: string): void {
    const open = this.#open.get(client) ?? 0;
    if (this.#max > 0 && open >= this.#max) {
      this.#metrics.streamsRefused.inc();
      throw new TooManyStreamsError(
        `at most ${this.#max} open streams per client; close one, or follow several channels with one stream (GET /v1/events)`,
      );
    }
    this.#open.set(client, open + 1);
    this.#metrics.streamClients.set(this.#open.size);
  }

  /** Gives back one stream of `client`'s quota, taken with {@link acquire}; once per stream. */
  release(client: string): void {
    const left = (this.#open.get(client) ?? 1) - 1;
    if (left === 0) this.#open.delete(client);
    else this.#open.set(client, left);
    this.#metrics.streamClients.set(this.#open.size);
  }
}
