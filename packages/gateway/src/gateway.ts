/**
 * The gateway: a Fastify server over an EventBus, with the publish, stream,
 * health and console routes, access control and metrics.
 */
import {
  type ConnectionEvent,
  createEventBus,
  type EventBus,
  HISTORY_DEFAULTS,
  type HistoryOptions,
} from "@eventbus/core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import { Authenticator, type AuthOptions } from "./auth.js";
import { formatBusStatus } from "./bus-status.js";
import { DEFAULT_HOST, DEFAULT_SETTINGS, type GatewaySettings, isLoopback } from "./config.js";
import { Connections } from "./connections.js";
import { type CorsOptions, corsFor } from "./cors.js";
import { ConfigError, NotFoundError, NotReadyError } from "./errors.js";
import { Guard } from "./guard.js";
import { loopbackHostsOnly } from "./host-check.js";
import { toHttpError, writeClientError } from "./http-errors.js";
import { DEFAULT_LIMITS, type LimitSettings, limitPublishRate, StreamQuota } from "./limits.js";
import { GatewayMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { loggableUrl } from "./request-log.js";
import { registerConsoleRoutes } from "./routes/console.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerHistoryRoutes } from "./routes/history.js";
import { registerMultiStreamRoute } from "./routes/multi-stream.js";
import { registerOpenApiRoute } from "./routes/openapi.js";
import { registerPublishRoutes } from "./routes/publish.js";
import { registerStreamRoutes } from "./routes/stream.js";
import { OpenStreams } from "./streams.js";

/** How a gateway is built. Every field is optional. */
export interface GatewayOptions extends Partial<GatewaySettings> {
  /**
   * The bus to serve. Default: one built from `url` with `createEventBus`,
   * which the gateway then closes when it closes. A bus given here is left open.
   */
  readonly bus?: EventBus;
  /** The bus URL when no `bus` is given: `memory://` (default), `redis://...` or `redis+cluster://...`. */
  readonly url?: string | undefined;
  /**
   * The history of the bus the gateway builds: on by default (core's default
   * bounds), `false` for none, or the bounds (`maxEntries`, `ttlMs`...). Its
   * `maxEntries` is also the largest `limit` the history routes take, so with
   * a `bus` given, pass the bounds that bus was built with (whether that bus
   * keeps history is its own option).
   */
  readonly history?: HistoryOptions | boolean;
  /**
   * Keys that turn access control on (a secret, a public key, an identity
   * provider's JWKS), and the `iss`/`aud`/grant-claim rules; without any key,
   * every request may do anything.
   */
  readonly auth?: AuthOptions;
  /** Origins whose pages may call the gateway (CORS); none by default. */
  readonly cors?: CorsOptions;
  /** Per-client limits (publish rate, open streams) and channels per stream; see {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<LimitSettings>;
  /** pino's level: `info` by default, `silent` for none. */
  readonly logLevel?: string;
  /** Where JSON log lines go (default stdout). */
  readonly logStream?: { write(line: string): void };
}

/** Where a gateway listens. */
export interface ListenOptions {
  /** Default 127.0.0.1. Without access control, only loopback addresses are allowed. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  /** The Fastify instance: `inject()` for tests, extra routes for embedders. */
  readonly app: FastifyInstance;
  /** The bus it publishes to and follows. */
  readonly bus: EventBus;
  /** True when a secret or public key is configured: every `/v1` request needs a token. */
  readonly accessControl: boolean;
  /**
   * Starts listening; resolves with the base URL, such as `http://127.0.0.1:8080`.
   * @throws {ConfigError} for a non-loopback host while access control is off.
   */
  listen(options?: ListenOptions): Promise<string>;
  /**
   * Graceful shutdown: stops accepting connections, ends every stream with a
   * comment (clients may reconnect to another gateway), waits for requests in
   * flight, then closes the bus if the gateway created it. Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Builds a gateway. Routes: `POST`/`GET /v1/projects/{id}/events`,
 * `POST`/`GET /v1/agents/{id}/events`, `GET /v1/events` (several channels),
 * `GET /v1/projects/{id}/history`, `GET /v1/agents/{id}/history`,
 * `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and the console at `/`;
 * see docs/gateway.md.
 *
 * @throws {ConfigError} for an invalid key or secret.
 * @throws {UnsupportedUrlError} for a bus URL no transport serves.
 * @example
 * const gateway = createGateway({ auth: { secret: process.env.EVENTBUS_JWT_SECRET } });
 * console.log(await gateway.listen({ port: 8080 }));
 * process.once("SIGTERM", () => gateway.close());
 */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const settings: GatewaySettings = {
    heartbeatMs: options.heartbeatMs ?? DEFAULT_SETTINGS.heartbeatMs,
    retryMs: options.retryMs ?? DEFAULT_SETTINGS.retryMs,
    streamBuffer: options.streamBuffer ?? DEFAULT_SETTINGS.streamBuffer,
    bodyLimit: options.bodyLimit ?? DEFAULT_SETTINGS.bodyLimit,
  };
  const authenticator = new Authenticator(options.auth);
  const applyCors = corsFor(options.cors);
  const ownsBus = options.bus === undefined;
  const history = options.history ?? true;
  const bus = options.bus ?? createEventBus(options.url, { history });
  const app = Fastify({
    bodyLimit: settings.bodyLimit,
    // Errors met before a route runs get the same `{ error: { code, message } }` body as the rest.
    clientErrorHandler: writeClientError,
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = toHttpError(error);
      (reply as FastifyReply).code(status).send(body);
    },
    // `__proto__` and `constructor.prototype` keys are data, as on the bus (docs/core.md): JSON.parse
    // keeps them as own properties, and nothing here merges a body into another object.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    logger: {
      level: options.logLevel ?? "info",
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
      serializers: {
        req: (request) => ({
          method: request.method,
          url: loggableUrl(request),
          remoteAddress: request.ip,
        }),
      },
    },
  });
  // JSON only: without this, Fastify would also accept text/plain bodies.
  app.removeContentTypeParser("text/plain");
  if (!authenticator.enabled) app.addHook("onRequest", loopbackHostsOnly);
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toHttpError(error);
    logRefusal(request.log, error, status);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toHttpError(
      new NotFoundError(`no route for ${request.method} ${loggableUrl(request)}`),
    );
    return reply.code(status).send(body);
  });

  const connections = new Connections(app);
  const metrics = new GatewayMetrics(bus, () => connections.count());
  const streams = new OpenStreams(settings.heartbeatMs);
  const guard = new Guard(authenticator);
  const limits: LimitSettings = { ...DEFAULT_LIMITS, ...options.limits };
  applyCors(app);
  limitPublishRate(app, { limits, guard, metrics });
  registerPublishRoutes(app, bus, guard);
  const quota = new StreamQuota(limits.streamsPerClient, metrics);
  const streamDeps = { bus, guard, streams, metrics, settings, quota, log: app.log };
  registerStreamRoutes(app, streamDeps);
  registerMultiStreamRoute(app, streamDeps, limits.channelsPerStream);
  const maxEntries =
    (typeof history === "object" ? history.maxEntries : undefined) ?? HISTORY_DEFAULTS.maxEntries;
  registerHistoryRoutes(app, { bus, guard, metrics, maxEntries });
  registerHealthRoutes(app, bus, metrics);
  registerOpenApiRoute(
    app,
    openApiDocument({ accessControl: authenticator.enabled, limits, historyLimit: maxEntries }),
  );
  registerConsoleRoutes(app, {
    accessControl: authenticator.enabled,
    historyLimit: maxEntries,
  });

  const stopReporting = [
    bus.on("malformed", (error) => app.log.warn({ err: error }, "malformed message skipped")),
    bus.on("connection", (event) => {
      const level = event.state === "disconnected" ? "warn" : "info";
      app.log[level]({ connection: loggableConnection(event) }, `bus ${event.state}`);
      streams.broadcast(formatBusStatus(event));
    }),
  ];
  app.addHook("preClose", async () => {
    streams.endAll("server shutting down");
    connections.drain();
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    bus,
    accessControl: authenticator.enabled,
    async listen(listen: ListenOptions = {}): Promise<string> {
      const host = listen.host ?? DEFAULT_HOST;
      if (!authenticator.enabled && !isLoopback(host)) {
        throw new ConfigError(
          `access control is off (no JWT secret or public key), so the gateway listens on loopback only, not ${host}`,
        );
      }
      await app.listen({ host, port: listen.port ?? 0 });
      const address = app.server.address();
      const port = typeof address === "object" && address !== null ? address.port : listen.port;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      if (!authenticator.enabled) {
        app.log.warn(
          "access control is off: no JWT secret or public key; listening on loopback only",
        );
      }
      return url;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        await app.close();
        for (const stop of stopReporting) stop();
        if (ownsBus) await bus.close();
      })();
      return closing;
    },
  };
}

/**
 * A bus connection event as a log field. Its error is given by name, code and
 * message: an `Error` logged as a plain field serializes to `{}`, which told an
 * operator nothing of why the bus disconnected, and its stack is noise for an
 * outage.
 */
function loggableConnection(event: ConnectionEvent): object {
  if (event.state !== "disconnected" || event.error === undefined) return event;
  const { name, message } = event.error;
  const code = (event.error as { code?: unknown }).code;
  return { ...event, error: { name, message, ...(code === undefined ? {} : { code }) } };
}

/**
 * What the log hears of a refused request: the unexpected (500) with its stack;
 * a bus failure (503) as one line with the detail the client was not told; a
 * refusal because the bus is down (`NotReadyError`: `/readyz`, a new stream)
 * nothing, as the bus's `disconnected` and `reconnected` are logged once each.
 * Client errors (4xx) are the client's business.
 */
function logRefusal(log: FastifyBaseLogger, error: unknown, status: number): void {
  if (status === 500) log.error({ err: error }, "internal error");
  else if (status === 503 && !(error instanceof NotReadyError)) {
    const detail = error instanceof Error ? error.message : String(error);
    log.warn({ code: (error as { code?: unknown }).code, detail }, "the bus failed a request");
  }
}
