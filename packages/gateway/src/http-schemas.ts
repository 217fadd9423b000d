/**
 * The zod schemas of the HTTP API: what the routes parse their paths and
 * queries with, and what the OpenAPI description (openapi.ts) renders. One
 * copy for both, so the description cannot drift from what the routes accept.
 */
import {
  type ChannelAddress,
  EVENT_TYPES,
  type EventType,
  type HistoryGap,
  UuidSchema,
  type ValidationIssue,
  WireEventSchema,
} from "@eventbus/core";
import { z } from "zod";
// The type import also brings zod-openapi's `.meta()` fields (`id`, `override`) into scope.
import type { ZodOpenApiOverrideContext } from "zod-openapi";
import { InvalidRequestError } from "./errors.js";

/** A UUID in any case (as core's channels take it), lowercased. */
const Uuid = UuidSchema.meta({ example: "6f1c2a4e-8b3d-4c5e-9f7a-0b1c2d3e4f5a" });

/** The path of the project routes: `/v1/projects/{projectId}/events`. */
export const ProjectParamsSchema = z.object({
  projectId: Uuid.meta({ description: "the project's UUID" }),
});

/** The path of the agent routes: `/v1/agents/{agentId}/events`. */
export const AgentParamsSchema = z.object({
  agentId: Uuid.meta({ description: "the agent's UUID" }),
});

/**
 * A query parameter that may be given once or repeated (`?agent=a&agent=b`):
 * always a list, each value checked by `item` (an issue names its index).
 */
function repeatable<T extends z.ZodType<unknown, string>>(item: T) {
  const items = z.toJSONSchema(item, { io: "input", target: "draft-2020-12" });
  delete items.$schema;
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .pipe(z.array(item))
    .meta({
      // Rendered as what it is on the wire: a form-exploded array (`?agent=a&agent=b`).
      override: ({ jsonSchema }: ZodOpenApiOverrideContext) => {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, { type: "array", items });
      },
    });
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * The `?types=` filter: event types separated by commas (the parameter may
 * also repeat). `undefined` when empty: every type. An unknown type is an issue.
 */
const TypesSchema = repeatable(z.string())
  .transform((values, context): ReadonlySet<EventType> | undefined => {
    const names = values
      .flatMap((value) => value.split(","))
      .map((name) => name.trim())
      .filter((name) => name !== "");
    const unknown = names.filter((name) => !KNOWN_TYPES.has(name));
    if (unknown.length > 0) {
      context.addIssue({
        code: "custom",
        message: `unknown event type ${unknown.map((name) => JSON.stringify(name)).join(", ")}; expected some of ${EVENT_TYPES.join(", ")}`,
      });
      return z.NEVER;
    }
    return names.length === 0 ? undefined : new Set(names as EventType[]);
  })
  .meta({
    description:
      "only these event types, separated by commas (or the parameter repeated); absent or empty: every type",
    example: "issue.created,issue.closed",
  });

/** The query parameter that carries the filter as array-minded clients (axios, qs) write it. */
const TYPES_ARRAY_PARAM = "types[]";

/** Names that look like the filter but are not it (`type=`, `types[0]=`, `Types=`): refused, not ignored. */
const TYPES_LOOKALIKE = /^types?(\[.*\])?$/i;

/**
 * A stream's query with `types[]=` folded into `types=`, so both spellings
 * filter alike.
 *
 * @throws {InvalidRequestError} for a parameter that looks like the filter
 * but is not it: a stream that ignored it would carry every type.
 */
export function typesQueryOf(query: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...(query as Record<string, unknown> | undefined) };
  for (const name of Object.keys(fields)) {
    if (name !== "types" && name !== TYPES_ARRAY_PARAM && TYPES_LOOKALIKE.test(name)) {
      throw new InvalidRequestError([
        {
          path: ["query", name],
          message: "unknown query parameter; filter with types=a,b (or repeat types=)",
        },
      ]);
    }
  }
  const spelledAsArray = fields[TYPES_ARRAY_PARAM];
  if (spelledAsArray !== undefined) {
    fields.types = [fields.types ?? [], spelledAsArray].flat();
    delete fields[TYPES_ARRAY_PARAM];
  }
  return fields;
}

/** An example position, as the stream and history routes and core's docs show one. */
const POSITION_EXAMPLE = "3fa9c2d10b7e.17.9c1f02ab";

/**
 * The query of a one-channel stream: `?types=` and `?last_event_id=`, the
 * position a first connection resumes from (checked by the route: one that is
 * not a position makes the stream start with `event: reload`).
 */
export const StreamQuerySchema = z.object({
  types: TypesSchema.optional(),
  last_event_id: z.string().optional().meta({
    description:
      "resume after this position (an `id:` of this stream): the missed events first, then live. A reconnecting EventSource sends the `Last-Event-ID` header instead, which wins",
    example: POSITION_EXAMPLE,
  }),
});

/** The headers of a one-channel stream: `Last-Event-ID`, as a reconnecting EventSource sends it. */
export const StreamHeadersSchema = z.object({
  "last-event-id": z.string().optional().meta({
    description: "resume after this position: the last `id:` the client received",
    example: POSITION_EXAMPLE,
  }),
});

/** The channel a message of a multi-channel stream came from: `project:<uuid>` or `agent:<uuid>`. */
export function channelLabel(address: ChannelAddress): string {
  return `${address.kind}:${address.id}`;
}

/**
 * The query of the multi-channel stream, `/v1/events?project=<uuid>&agent=<uuid>...`:
 * at least one channel and at most `maxChannels` (after dropping repeats), and
 * the same `?types=` filter. Built per gateway, since the bound is a setting.
 */
export function channelsQuerySchema(maxChannels: number) {
  return z
    .object({
      project: repeatable(Uuid)
        .optional()
        .meta({
          description: `a project to follow; repeat for more (at most ${maxChannels} channels in all, with agent=)`,
        }),
      agent: repeatable(Uuid)
        .optional()
        .meta({
          description: `an agent to follow; repeat for more (at most ${maxChannels} channels in all, with project=)`,
        }),
      types: TypesSchema.optional(),
      last_event_id: z.string().optional().meta({
        description:
          "resume every channel after its position: an `id:` of this stream (`project:<uuid>=<position>,...`). A reconnecting EventSource sends the `Last-Event-ID` header instead, which wins",
      }),
    })
    .transform((query, context) => {
      const channels = new Map<string, ChannelAddress>();
      for (const kind of ["project", "agent"] as const) {
        for (const id of query[kind] ?? []) channels.set(channelLabel({ kind, id }), { kind, id });
      }
      if (channels.size === 0 || channels.size > maxChannels) {
        context.addIssue({
          code: "custom",
          path: ["project"],
          message: `name from 1 to ${maxChannels} channels with project= and agent=, got ${channels.size}`,
        });
        return z.NEVER;
      }
      return {
        channels: [...channels.values()],
        types: query.types,
        last_event_id: query.last_event_id,
      };
    });
}

/**
 * The query of the history routes: `?since=<position>&limit=<n>`, `limit`
 * from 1 to `maxEntries` (the bus's bound). `since` is only checked to be
 * one string here: the bus parses it, so a malformed one is refused with
 * core's `EVENTBUS_INVALID_POSITION`, the code a client branches on to drop a
 * stored position. Built per gateway, since the bound is a setting.
 */
export function historyQuerySchema(maxEntries: number) {
  const limitIssue = `must be an integer from 1 to ${maxEntries}`;
  return z.object({
    since: z.string().optional().meta({
      description:
        "a position (an event's `position`, or a page's `current`): the events after it. Absent: the latest ones",
      example: POSITION_EXAMPLE,
    }),
    limit: z
      .string()
      .regex(/^[1-9][0-9]{0,15}$/, { error: limitIssue })
      .transform(Number)
      .pipe(z.number().max(maxEntries, { error: limitIssue }))
      .optional()
      .meta({
        description: `at most this many events (default ${maxEntries})`,
        // Rendered as what it is on the wire: a decimal integer in the bounds.
        override: ({ jsonSchema }: ZodOpenApiOverrideContext) => {
          for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
          Object.assign(jsonSchema, { type: "integer", minimum: 1, maximum: maxEntries });
        },
      }),
  });
}

/** Why a history page is not complete, as `docs/history.md` explains each. */
const HISTORY_GAPS = {
  trimmed: "some asked-for events were dropped by the channel's bound; the rest follow",
  expired: "the channel's events expired; none are left",
  "foreign-epoch": "`since` is of another lifetime of the channel's history (or another channel)",
  future: "`since` is beyond the channel's last event",
  diverged: "the event at `since` is not the one the position names",
} as const satisfies Record<HistoryGap, string>;

const HistoryGapSchema = z.enum(Object.keys(HISTORY_GAPS) as [HistoryGap, ...HistoryGap[]]).meta({
  description: Object.entries(HISTORY_GAPS)
    .map(([gap, meaning]) => `\`${gap}\`: ${meaning}`)
    .join("; "),
});

/**
 * The answer of the history routes (core's `HistoryPage` on the wire): the
 * events in order with their positions, the channel's current position, and
 * whether the page is complete. When it is not, `gap` says why: reload from
 * your source of truth and go on from `current`.
 */
export const HistoryPageSchema = z
  .object({
    events: z.array(
      z.object({
        position: z
          .string()
          .meta({ description: "the event's position", example: POSITION_EXAMPLE }),
        event: WireEventSchema,
      }),
    ),
    current: z.string().meta({
      description: "the channel's position now: resume from it",
      example: "3fa9c2d10b7e.17",
    }),
    more: z.boolean().meta({
      description: "more events are retained after the last one: ask again with its position",
    }),
    complete: z.boolean().meta({
      description: "every event asked for is here; when false, `gap` says why not",
    }),
    gap: HistoryGapSchema.optional(),
  })
  .meta({ id: "HistoryPage" });

/**
 * What a publish route takes: an event in the wire format, where `id`,
 * `timestamp` and `payload` may be left out (the gateway fills a UUID, now and
 * `{}`), and on the project route `project_id` too (the path's). The route
 * validates the filled event with {@link WireEventSchema} itself.
 */
export const PublishBodySchema = {
  project: WireEventSchema.partial({ id: true, timestamp: true, payload: true, project_id: true }),
  agent: WireEventSchema.partial({ id: true, timestamp: true, payload: true }),
} as const;

/** One line of a multi-channel stream's `data:`: the channel and the event in the wire format. */
export const ChannelMessageSchema = z
  .object({
    channel: z
      .string()
      .regex(/^(project|agent):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      .meta({ description: "`project:<uuid>` or `agent:<uuid>`, as named in the query" }),
    event: WireEventSchema,
  })
  .meta({ description: "the `data:` of a multi-channel stream's message" });

/** The body of every error response: a stable `code`, a message, and `issues` for invalid input. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "stable; see docs/gateway.md and docs/errors.md" }),
      message: z.string(),
      issues: z
        .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }))
        .optional(),
    }),
  })
  .meta({ id: "Error" });

/**
 * Parses one part of a request with its schema.
 * @throws {InvalidRequestError} whose issues' paths start with `where`.
 */
export function parseRequestPart<T extends z.ZodType>(
  where: "params" | "query",
  schema: T,
  value: unknown,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map((key) => (typeof key === "symbol" ? String(key) : key))],
    message: issue.message,
  }));
  throw new InvalidRequestError(issues);
}
