/**
 * Parsers of the CLI's option values. Each throws commander's
 * `InvalidArgumentError`, so a bad value ends the command with a clear message
 * and a non-zero exit before anything runs.
 */
import {
  ACTOR_TYPES,
  type ActorType,
  canonicalUuid,
  EVENT_TYPES,
  type EventType,
  type JsonObject,
  parsePosition,
} from "@eventbus/core";
import { InvalidArgumentError } from "commander";

/** A UUID, lowercased. */
export function uuid(value: string): string {
  const id = canonicalUuid(value);
  if (id === undefined) throw new InvalidArgumentError("must be a UUID.");
  return id;
}

/** A UUID or `*`, added to the list given so far (for repeatable options). */
export function uuidOrAnyList(value: string, previous: string[] = []): string[] {
  return [...previous, value === "*" ? value : uuid(value)];
}

/** One of the thirteen event types. */
export function eventType(value: string): EventType {
  if (!(EVENT_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${EVENT_TYPES.join(", ")}.`);
  }
  return value as EventType;
}

/** Event types separated by commas, as `--types` takes them. */
export function eventTypeList(value: string): EventType[] {
  return value.split(",").map((name) => eventType(name.trim()));
}

/** Who acted: `system`, or `agent:<uuid>` / `user:<uuid>` (the id is optional for either). */
export interface Actor {
  readonly actor_type: ActorType;
  readonly actor_id: string | null;
}

/** Parses `--actor`: `system`, `agent[:<uuid>]` or `user[:<uuid>]`. */
export function actor(value: string): Actor {
  const [type, id, ...rest] = value.split(":");
  if (!(ACTOR_TYPES as readonly string[]).includes(type ?? "") || rest.length > 0) {
    throw new InvalidArgumentError("must be system, agent[:<uuid>] or user[:<uuid>].");
  }
  return { actor_type: type as ActorType, actor_id: id === undefined ? null : uuid(id) };
}

/** A JSON object, as `--payload` takes it. */
export function jsonObject(value: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`must be JSON (${(error as Error).message}).`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError("must be a JSON object, such as {}.");
  }
  return parsed as JsonObject;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration in whole seconds: `90`, `90s`, `15m`, `12h` or `7d`. */
export function seconds(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value);
  const amount = Number(match?.[1]);
  if (match === null || amount < 1) {
    throw new InvalidArgumentError("must be a duration such as 3600, 90s, 15m, 12h or 7d.");
  }
  return amount * UNIT_SECONDS[(match[2] || "s") as keyof typeof UNIT_SECONDS];
}

/** A history position, as `tail --json` prints them (`<epoch>.<offset>[.<fingerprint>]`). */
export function position(value: string): string {
  try {
    parsePosition(value);
  } catch (error) {
    throw new InvalidArgumentError(
      `must be a position such as 3fa9c2d10b7e.17.9c1f02ab (${(error as Error).message}).`,
    );
  }
  return value;
}

/** A positive integer. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1 || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError("must be a positive integer.");
  }
  return parsed;
}

/** Where tail and publish go: a gateway (`http(s)://`) or straight to a bus (`redis(s)://`, `redis(s)+cluster://`). */
export function endpoint(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL: http(s)://gateway or redis(s)://host:port.");
  }
  const schemes = ["http:", "https:", "redis:", "rediss:", "redis+cluster:", "rediss+cluster:"];
  if (!schemes.includes(url.protocol)) {
    throw new InvalidArgumentError(
      "must be a gateway (http:// or https://) or a Redis bus (redis://, rediss://, redis+cluster:// or rediss+cluster://).",
    );
  }
  return url;
}
