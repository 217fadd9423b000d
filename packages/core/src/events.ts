import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ValidationError, type ValidationIssue } from "./errors.js";
import {
  isJsonObject,
  isPlainObject,
  type JsonObject,
  jsonProblem,
  MAX_PAYLOAD_DEPTH,
  TOO_DEEP_MESSAGE,
} from "./json.js";
import { DateSchema, WireTimestampSchema } from "./timestamp.js";
import { UuidSchema } from "./uuid.js";

/**
 * The thirteen kinds of event, with the values of the original Python
 * `EventType` enum. A const object rather than a TS `enum`, so
 * `EventType.AGENT_SPAWNED` reads as in the original and works under type stripping.
 */
export const EventType = {
  AGENT_SPAWNED: "agent.spawned",
  AGENT_STATUS_CHANGED: "agent.status_changed",
  AGENT_MESSAGE: "agent.message",
  AGENT_TERMINATED: "agent.terminated",
  ISSUE_CREATED: "issue.created",
  ISSUE_UPDATED: "issue.updated",
  ISSUE_ASSIGNED: "issue.assigned",
  ISSUE_CLOSED: "issue.closed",
  SPRINT_STARTED: "sprint.started",
  SPRINT_COMPLETED: "sprint.completed",
  APPROVAL_REQUESTED: "approval.requested",
  APPROVAL_GRANTED: "approval.granted",
  APPROVAL_DENIED: "approval.denied",
} as const;

/** One of the thirteen event type strings, such as `"issue.created"`. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Every event type string, in the order of the original spec. */
export const EVENT_TYPES = Object.values(EventType) as readonly EventType[];

/** Who triggered an event. */
export const ACTOR_TYPES = ["agent", "user", "system"] as const;

/** `"agent"`, `"user"` or `"system"`. */
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Longest event id accepted; ids travel in SSE `id:` lines and logs. */
export const MAX_EVENT_ID_LENGTH = 200;

const EventIdSchema = z
  .string()
  .min(1, "must not be empty")
  .max(MAX_EVENT_ID_LENGTH, `must be at most ${MAX_EVENT_ID_LENGTH} characters`)
  .regex(/^[^\r\n\0]*$/, "must not contain line breaks or NUL");

const TypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]], {
  error: (issue) => `must be one of ${EVENT_TYPES.join(", ")} (got ${shown(issue.input)})`,
});

const ActorTypeSchema = z.enum(ACTOR_TYPES, {
  error: (issue) => `must be one of agent, user, system (got ${shown(issue.input)})`,
});

/** Longest part of a string input quoted in an issue message. */
const SHOWN_LENGTH = 64;

/**
 * `value` as an issue message quotes it: strings cut short, objects and
 * arrays named rather than printed. Never throws, unlike `JSON.stringify`
 * (a BigInt, a cycle, an array nested 10,000 deep), and never makes a message
 * as long as the input.
 */
function shown(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value);
  }
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  return typeof value === "bigint" ? `${value}n` : String(value);
}

/** Why an in-code payload is not valid, for {@link EventSchema}'s issue: too deep (or cyclic), or not JSON. */
function payloadIssue(value: unknown): string {
  return isPlainObject(value) && jsonProblem(value) === TOO_DEEP_MESSAGE
    ? TOO_DEEP_MESSAGE
    : "must be a JSON object (plain objects, arrays without holes, strings, finite numbers, booleans, null)";
}

const fields = {
  id: EventIdSchema,
  type: TypeSchema,
  project_id: UuidSchema,
  actor_id: UuidSchema.nullable(),
  actor_type: ActorTypeSchema,
};

/**
 * An event in code: the wire's snake_case fields, `timestamp` as a `Date`, and a
 * `payload` that JSON carries unchanged. `publish` validates against it.
 */
export const EventSchema = z.object({
  ...fields,
  timestamp: DateSchema,
  payload: z.custom<JsonObject>((value) => isJsonObject(value), {
    error: (issue) => payloadIssue(issue.input),
  }),
});

/**
 * The wire's payload: a JSON object nesting at most {@link MAX_PAYLOAD_DEPTH}
 * levels, of finite numbers. Both are checked first, by a loop (`jsonProblem`):
 * `z.json()` recurses per level and would overflow the stack on a payload some
 * thousands of levels deep, and zod's record skips `__proto__` keys, so what
 * they hold would go unchecked.
 */
const WirePayloadSchema = z.preprocess(
  (value, context) => {
    const problem = isPlainObject(value) ? jsonProblem(value) : undefined;
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
    return value;
  },
  z
    .record(z.string(), z.json(), { error: "must be a JSON object" })
    .describe(
      `A JSON object, nesting objects and arrays at most ${MAX_PAYLOAD_DEPTH} levels deep (the payload itself is the first).`,
    ),
);

/**
 * An event on the wire, as the original Python service writes it: `timestamp`
 * an ISO 8601 string with `Z` or an offset (fractional seconds optional), an
 * instant from 0001 to 9999 in UTC, `actor_id` null or absent when nobody in
 * particular acted, `payload` a JSON object nesting at most
 * {@link MAX_PAYLOAD_DEPTH} levels. Unknown fields are ignored (never walked),
 * so newer publishers can add some. Its JSON Schema ships as
 * `@eventbus/core/event.schema.json`. Safe on any input: no value, however
 * deep, overflows the stack. Its output's `payload` is zod's copy, which drops
 * `__proto__` keys; `decodeEvent` and `parseWireEvent` keep them.
 */
export const WireEventSchema = z.object({
  ...fields,
  actor_id: fields.actor_id.default(null),
  timestamp: WireTimestampSchema,
  payload: WirePayloadSchema,
});

/**
 * An event as code handles it; see {@link EventSchema}. Read-only through and
 * through (the payload too): the bus hands one object to every subscriber, so
 * one that changed it would change what all the others see.
 */
export interface Event {
  readonly id: string;
  readonly type: EventType;
  readonly timestamp: Date;
  readonly project_id: string;
  readonly actor_id: string | null;
  readonly actor_type: ActorType;
  readonly payload: JsonObject;
}

/** What {@link createEvent} needs: `id`, `timestamp`, `actor_id` and `payload` may be left out. */
export interface EventInput {
  id?: string;
  type: EventType;
  timestamp?: Date;
  project_id: string;
  actor_id?: string | null;
  actor_type: ActorType;
  payload?: JsonObject;
}

/**
 * Builds a valid event, filling `id` (a fresh UUID), `timestamp` (now),
 * `actor_id` (`null`) and `payload` (`{}`) when absent. UUIDs are lowercased.
 *
 * @throws {ValidationError} listing every field that is wrong.
 * @example
 * const event = createEvent({
 *   type: EventType.ISSUE_CREATED,
 *   project_id: projectId,
 *   actor_type: "agent",
 *   actor_id: agentId,
 *   payload: { issue_id: issueId },
 * });
 */
export function createEvent(input: EventInput): Event {
  return parseEvent({
    id: randomUUID(),
    timestamp: new Date(),
    actor_id: null,
    payload: {},
    ...withoutUndefined(input),
  });
}

/**
 * Checks that `value` is a valid {@link Event} and returns it with UUIDs lowercased.
 *
 * @throws {ValidationError} listing every field that is wrong.
 */
export function parseEvent(value: unknown): Event {
  if (!isPlainObject(value))
    throw new ValidationError([{ path: [], message: "must be an object" }]);
  const result = EventSchema.safeParse(value);
  if (!result.success) throw new ValidationError(toIssues(result.error));
  return result.data;
}

/** Converts zod's issues to ours: a path of keys and indices, and a message. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
    message: issue.message,
  }));
}

function withoutUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
