/**
 * The OpenAPI 3.1 description of the gateway's HTTP API, built (zod-openapi)
 * from the zod schemas the routes parse with (http-schemas.ts) and core's
 * wire schema, and from this gateway's settings: whether tokens are needed,
 * the channel bound, the publish rate limit, the history page bound. `GET /openapi.json` serves it; a
 * test checks it against the routes that exist.
 */
import { readFileSync } from "node:fs";
import { WireEventSchema } from "@eventbus/core";
import { z } from "zod";
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import { TOKEN_COOKIE, TOKEN_QUERY_PARAM } from "./auth.js";
import { STATUS_OF_CODE } from "./http-errors.js";
import {
  AgentParamsSchema,
  ChannelMessageSchema,
  channelsQuerySchema,
  ErrorBodySchema,
  HistoryPageSchema,
  historyQuerySchema,
  ProjectParamsSchema,
  PublishBodySchema,
  StreamHeadersSchema,
  StreamQuerySchema,
} from "./http-schemas.js";
import type { LimitSettings } from "./limits.js";

/** What the description depends on. */
export interface OpenApiSettings {
  readonly accessControl: boolean;
  readonly limits: LimitSettings;
  /** The largest `limit` of the history routes (the bus's `maxEntries`). */
  readonly historyLimit: number;
}

const PACKAGE = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly version: string;
};

/** The security schemes a token may come by; streams take all three, publishing the header only. */
const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
  accessTokenQuery: { type: "apiKey", in: "query", name: TOKEN_QUERY_PARAM },
  accessTokenCookie: { type: "apiKey", in: "cookie", name: TOKEN_COOKIE },
} as const satisfies Record<string, oas31.SecuritySchemeObject>;

/** The error response of `status`, naming the codes answered with it. */
function errorResponse(status: number, extra: Partial<oas31.ResponseObject> = {}) {
  const codes = Object.entries(STATUS_OF_CODE)
    .filter(([, code]) => code === status)
    .map(([name]) => name);
  return {
    description: `error; \`error.code\` is one of ${codes.join(", ")}`,
    content: { "application/json": { schema: ErrorBodySchema } },
    ...extra,
  };
}

/** The error responses of the listed statuses. */
function errors(...statuses: number[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(statuses.map((status) => [String(status), errorResponse(status)]));
}

const SSE_DESCRIPTION = [
  "Server-Sent Events, sent once the subscription is confirmed: `retry:` first, then one message",
  "per event (`event:` the type, `id:` %ID%, `data:` %DATA% on one line), `: heartbeat`",
  "comments, and, when the gateway ends the stream for a reason, a last `event: error` message",
  'whose data is `{"code","message"}` (`GATEWAY_TOKEN_EXPIRED`, `EVENTBUS_SLOW_CONSUMER`).',
  "With history on, events that are missing and cannot be recovered are an `event: reload` message",
  '(`data: {"reason","after","position","message"%CHANNEL%}`): reload from your source of truth.',
].join(" ");

/** What a one-channel stream adds: positions as ids, resume, and the start message. */
const RESUME_DESCRIPTION = [
  "With history on, the stream resumes after `Last-Event-ID` (or `?last_event_id=`): the missed",
  "events, then live ones, none twice; then an `event: start` message whose `id:` is the channel's",
  'position (`data: {"position","since","replayed"}`), so a client that receives no event still',
  "has a resume point. A resume that cannot be complete (history trimmed or lost, a resume point",
  "that is not a position) sends `event: reload` first. See docs/gateway.md.",
].join(" ");

const MULTI_RESUME_DESCRIPTION = [
  "With history on, every `id:` is the stream's resume vector, `project:<uuid>=<position>,...`",
  "(each channel's last position), and the stream resumes every channel after `Last-Event-ID`",
  "(or `?last_event_id=`) as a one-channel stream does, with one `event: start` per channel and",
  '`event: reload` naming the channel (`data: {"channel",...}`) where events cannot be recovered.',
].join(" ");

function sseResponse(kind: "one" | "multi"): oas31.ResponseObject {
  const description = SSE_DESCRIPTION.replace(
    "%ID%",
    kind === "one"
      ? "the event's position (history on; none without)"
      : "the stream's resume vector (history on; the event id without)",
  )
    .replace(
      "%DATA%",
      kind === "one"
        ? "the event in the wire format (`Event`)"
        : "a `ChannelMessage`: the channel and the event",
    )
    .replace("%CHANNEL%", kind === "one" ? "" : ',"channel"');
  return {
    description: `${description} ${kind === "one" ? RESUME_DESCRIPTION : MULTI_RESUME_DESCRIPTION}`,
    content: { "text/event-stream": { schema: { type: "string" } } },
  };
}

/**
 * Builds the description for a gateway with these settings.
 * @example
 * const document = openApiDocument({ accessControl: true, limits: DEFAULT_LIMITS });
 */
export function openApiDocument(settings: OpenApiSettings): oas31.OpenAPIObject {
  const guarded = (schemes: (keyof typeof SECURITY_SCHEMES)[]) =>
    settings.accessControl ? { security: schemes.map((scheme) => ({ [scheme]: [] })) } : {};
  const refusals = settings.accessControl ? [401, 403] : [];
  const streamSecurity = guarded(["bearer", "accessTokenQuery", "accessTokenCookie"]);
  const streamLimit = settings.limits.streamsPerClient > 0 ? [429] : [];
  const rateLimit =
    settings.limits.publishRate > 0
      ? {
          "429": errorResponse(429, {
            headers: {
              "Retry-After": {
                description: "seconds until the client may publish again",
                schema: { type: "integer" },
              },
            },
          }),
        }
      : {};

  const stream = (kind: "project" | "agent"): ZodOpenApiOperationObject => ({
    summary: `Follow the ${kind}'s events live (SSE)`,
    operationId: `follow${kind === "project" ? "Project" : "Agent"}`,
    tags: ["streams"],
    requestParams: {
      path: kind === "project" ? ProjectParamsSchema : AgentParamsSchema,
      query: StreamQuerySchema,
      header: StreamHeadersSchema,
    },
    ...streamSecurity,
    responses: {
      "200": sseResponse("one"),
      ...errors(400, ...refusals, ...streamLimit, 503),
    },
  });
  const publish = (kind: "project" | "agent"): ZodOpenApiOperationObject => ({
    summary: `Publish one event to the ${kind}'s channel`,
    operationId: `publishTo${kind === "project" ? "Project" : "Agent"}`,
    tags: ["publish"],
    requestParams: { path: kind === "project" ? ProjectParamsSchema : AgentParamsSchema },
    requestBody: {
      required: true,
      content: { "application/json": { schema: PublishBodySchema[kind] } },
    },
    ...guarded(["bearer"]),
    responses: {
      "202": {
        description: "published; the event as published, in the wire format",
        content: { "application/json": { schema: WireEventSchema } },
      },
      ...errors(400, ...refusals, 413, 415, 503),
      ...rateLimit,
    },
  });
  const history = (kind: "project" | "agent"): ZodOpenApiOperationObject => ({
    summary: `Read the ${kind}'s retained events, with their positions`,
    description:
      "The events after `since` (or the latest ones), in order. A page that cannot hold every event asked for says so: `complete` false and a `gap`; reload from your source of truth and go on from `current`. See docs/history.md.",
    operationId: `read${kind === "project" ? "Project" : "Agent"}History`,
    tags: ["history"],
    requestParams: {
      path: kind === "project" ? ProjectParamsSchema : AgentParamsSchema,
      query: historyQuerySchema(settings.historyLimit),
    },
    ...streamSecurity,
    responses: {
      "200": {
        description: "the page",
        content: { "application/json": { schema: HistoryPageSchema } },
      },
      ...errors(400, ...refusals, 404, 503),
    },
  });
  const text = (summary: string, type: string): ZodOpenApiOperationObject => ({
    summary,
    tags: ["console"],
    responses: {
      "200": { description: summary, content: { [type]: { schema: { type: "string" } } } },
    },
  });

  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "EventBus gateway",
      version: PACKAGE.version,
      description:
        "Publish events over HTTP and follow projects and agents live over Server-Sent Events. See docs/gateway.md.",
    },
    paths: {
      "/v1/projects/{projectId}/events": { get: stream("project"), post: publish("project") },
      "/v1/agents/{agentId}/events": { get: stream("agent"), post: publish("agent") },
      "/v1/projects/{projectId}/history": { get: history("project") },
      "/v1/agents/{agentId}/history": { get: history("agent") },
      "/v1/events": {
        get: {
          summary: "Follow several projects and agents live on one stream (SSE)",
          operationId: "followChannels",
          tags: ["streams"],
          requestParams: {
            query: channelsQuerySchema(settings.limits.channelsPerStream),
            header: StreamHeadersSchema,
          },
          ...streamSecurity,
          responses: {
            "200": sseResponse("multi"),
            ...errors(400, ...refusals, ...streamLimit, 503),
          },
        },
      },
      "/healthz": {
        get: {
          summary: "The process answers",
          tags: ["operations"],
          responses: {
            "200": {
              description: "alive",
              content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
            },
          },
        },
      },
      "/readyz": {
        get: {
          summary: "The bus's transport is connected",
          tags: ["operations"],
          responses: {
            "200": {
              description: "ready",
              content: { "application/json": { schema: z.object({ status: z.literal("ready") }) } },
            },
            ...errors(503),
          },
        },
      },
      "/metrics": {
        get: {
          ...text("Prometheus metrics", "text/plain"),
          tags: ["operations"],
        },
      },
      "/openapi.json": {
        get: {
          summary: "This description",
          tags: ["operations"],
          responses: {
            "200": {
              description: "OpenAPI 3.1",
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
      "/": { get: text("The web console", "text/html") },
      "/console.js": { get: text("The console's script", "text/javascript") },
      "/console.css": { get: text("The console's stylesheet", "text/css") },
    },
    components: {
      schemas: { Event: WireEventSchema, ChannelMessage: ChannelMessageSchema },
      ...(settings.accessControl ? { securitySchemes: SECURITY_SCHEMES } : {}),
    },
  });
}
