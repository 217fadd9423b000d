import { type NestingShape, nestedText } from "@eventbus/test-fuzz";
import { describe, expect, it } from "vitest";
import {
  createEvent,
  decodeEvent,
  EventType,
  encodeEvent,
  MAX_PAYLOAD_DEPTH,
  ValidationError,
} from "../src/index.js";
import type { JsonObject } from "../src/json.js";

const projectId = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";
const actorId = "0b7e2f4c-1111-4a2b-9c3d-5e6f7a8b9c0d";

/** An event as the original Python service serialises it; `timestamp` varies by library. */
function pythonWire(timestamp: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: "8c9d7f10-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
    type: "issue.created",
    timestamp,
    project_id: projectId,
    actor_id: null,
    actor_type: "system",
    payload: { issue_id: "42", labels: ["bug"], estimate: 3.5, blocked: false, parent: null },
    ...extra,
  });
}

function decodeIssues(data: string) {
  try {
    decodeEvent(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error("expected a ValidationError");
}

describe("codec - decoding what Python writes", () => {
  it.each([
    ["pydantic 2", "2025-12-29T23:48:23.123456Z", "2025-12-29T23:48:23.123Z"],
    ["pydantic 1", "2025-12-29T23:48:23.123456+00:00", "2025-12-29T23:48:23.123Z"],
    [
      "datetime.isoformat() with an offset",
      "2025-12-30T01:48:23.123456+02:00",
      "2025-12-29T23:48:23.123Z",
    ],
    [
      "datetime.isoformat() without fraction",
      "2025-12-29T23:48:23+00:00",
      "2025-12-29T23:48:23.000Z",
    ],
    ["a negative offset", "2025-12-29T18:18:23.5-05:30", "2025-12-29T23:48:23.500Z"],
    ["plain Z without fraction", "2025-12-29T23:48:23Z", "2025-12-29T23:48:23.000Z"],
    [
      "a fraction of more than nine digits starting with zeros, truncated",
      "2025-12-29T23:48:23.0004000000Z",
      "2025-12-29T23:48:23.000Z",
    ],
    [
      "a year below 100 with such a fraction, truncated",
      "0050-06-01T12:00:00.00001234567891+01:00",
      "0050-06-01T11:00:00.000Z",
    ],
  ])("reads the timestamp of %s (%s)", (_, timestamp, iso) => {
    const event = decodeEvent(pythonWire(timestamp));
    expect(event.timestamp.toISOString()).toBe(iso);
    expect(event).toMatchObject({
      type: EventType.ISSUE_CREATED,
      project_id: projectId,
      actor_id: null,
      actor_type: "system",
      payload: { issue_id: "42", labels: ["bug"], estimate: 3.5, blocked: false, parent: null },
    });
  });

  it("reads an absent actor_id as null, ignores unknown fields and lowercases UUIDs", () => {
    const raw = JSON.parse(pythonWire("2025-12-29T23:48:23Z"));
    delete raw.actor_id;
    raw.schema_version = 2;
    raw.project_id = projectId.toUpperCase();
    const event = decodeEvent(JSON.stringify(raw));
    expect(event.actor_id).toBeNull();
    expect(event.project_id).toBe(projectId);
    expect(Object.keys(event)).not.toContain("schema_version");
  });
});

describe("codec - encoding", () => {
  it("writes the original's fields in order, UTC with Z, actor_id null when absent", () => {
    const event = createEvent({
      id: "evt-1",
      type: EventType.AGENT_SPAWNED,
      timestamp: new Date("2025-12-29T23:48:23.123Z"),
      project_id: projectId,
      actor_type: "system",
      payload: { agent_id: actorId },
    });
    expect(encodeEvent(event)).toBe(
      `{"id":"evt-1","type":"agent.spawned","timestamp":"2025-12-29T23:48:23.123Z","project_id":"${projectId}","actor_id":null,"actor_type":"system","payload":{"agent_id":"${actorId}"}}`,
    );
  });

  it("round-trips every event type", () => {
    for (const type of Object.values(EventType)) {
      const event = createEvent({
        type,
        project_id: projectId,
        actor_id: actorId,
        actor_type: "agent",
        payload: { type },
      });
      expect(decodeEvent(encodeEvent(event))).toEqual(event);
    }
  });

  it("refuses to encode an invalid event", () => {
    const event = createEvent({
      type: EventType.ISSUE_CLOSED,
      project_id: projectId,
      actor_type: "user",
    });
    expect(() => encodeEvent({ ...event, project_id: "p1" })).toThrow(ValidationError);
  });
});

describe("codec - refusals", () => {
  it("refuses what is not JSON, saying so", () => {
    expect(decodeIssues("{not json")).toEqual([
      { path: [], message: expect.stringMatching(/^not JSON/) },
    ]);
  });

  it.each([
    [
      "a timestamp without offset (naive datetime)",
      { timestamp: "2025-12-29T23:48:23.123456" },
      "timestamp",
    ],
    ["a date without time", { timestamp: "2025-12-29" }, "timestamp"],
    ["a timestamp as a number", { timestamp: 1767052103 }, "timestamp"],
    ["an unknown type", { type: "issue.deleted" }, "type"],
    ["an unknown actor type", { actor_type: "bot" }, "actor_type"],
    ["a project id that is not a UUID", { project_id: "project-1" }, "project_id"],
    ["an actor id that is not a UUID", { actor_id: 7 }, "actor_id"],
    ["a payload that is an array", { payload: [1] }, "payload"],
    ["a payload that is null", { payload: null }, "payload"],
    ["an empty id", { id: "" }, "id"],
  ])("refuses %s", (_, change, field) => {
    const issues = decodeIssues(pythonWire("2025-12-29T23:48:23Z", change));
    expect(issues.map((issue) => issue.path[0])).toEqual([field]);
  });

  it("refuses a JSON value that is not an object", () => {
    expect(decodeIssues("[1,2]")).toHaveLength(1);
    expect(decodeIssues("null")).toHaveLength(1);
  });

  it("lists every missing field", () => {
    expect(decodeIssues("{}").map((issue) => issue.path[0])).toEqual([
      "id",
      "type",
      "project_id",
      "actor_type",
      "timestamp",
      "payload",
    ]);
  });
});

/** The wire JSON of an event whose payload is the JSON text `payload`. */
function withPayload(payload: string): string {
  return pythonWire("2025-12-29T23:48:23Z").replace(/"payload":\{.*\}\}$/, `"payload":${payload}}`);
}

const TOO_DEEP = `must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`;

describe("codec - one nesting bound: decode, encode and createEvent agree", () => {
  // A payload is an object, so it opens with one; the rest of the levels are of the shape given.
  const payloadOf = (levels: number, shape: NestingShape): string =>
    `{"k":${nestedText(levels - 1, "1", shape)}}`;

  it.each<NestingShape>(["object", "array", "mixed"])(
    "accepts a payload nesting %s levels up to the bound, and re-encodes it",
    (shape) => {
      const event = decodeEvent(withPayload(payloadOf(MAX_PAYLOAD_DEPTH, shape)));
      expect(decodeEvent(encodeEvent(event))).toEqual(event);
      expect(() => createEvent({ ...event, payload: event.payload })).not.toThrow();
    },
  );

  it.each<NestingShape>(["object", "array", "mixed"])(
    "refuses a payload nesting %s levels one past the bound: decoding, encoding and createEvent alike",
    (shape) => {
      const payload = payloadOf(MAX_PAYLOAD_DEPTH + 1, shape);
      expect(decodeIssues(withPayload(payload))).toEqual([
        { path: ["payload"], message: TOO_DEEP },
      ]);
      const event = {
        ...decodeEvent(withPayload("{}")),
        payload: JSON.parse(payload) as JsonObject,
      };
      expect(() => encodeEvent(event)).toThrow(`payload: ${TOO_DEEP}`);
      expect(() => createEvent(event)).toThrow(`payload: ${TOO_DEEP}`);
    },
  );

  it.each([100, 2_000, 100_000])(
    "refuses a payload nested %i levels with a ValidationError, never a stack overflow",
    (levels) => {
      expect(decodeIssues(withPayload(payloadOf(levels, "mixed")))).toEqual([
        { path: ["payload"], message: TOO_DEEP },
      ]);
    },
  );

  it("refuses any other field nested 100,000 levels, with a short message", () => {
    const deep = nestedText(100_000, "1", "array");
    for (const field of ["id", "type", "timestamp", "project_id", "actor_id", "actor_type"]) {
      const issues = decodeIssues(
        pythonWire("2025-12-29T23:48:23Z", { [field]: 0 }).replace(
          `"${field}":0`,
          `"${field}":${deep}`,
        ),
      );
      expect(issues.map((issue) => issue.path)).toEqual([[field]]);
      expect(issues[0]?.message.length).toBeLessThan(400);
    }
  });

  it("ignores an unknown field nested 100,000 levels, without walking it", () => {
    const data = withPayload("{}").replace(
      /^\{/,
      `{"extra":${nestedText(100_000, "1", "object")},`,
    );
    expect(decodeEvent(data).payload).toEqual({});
  });
});

describe("codec - prototype keys are data", () => {
  it("keeps a __proto__ key as an own property, never as the prototype, and re-encodes it", () => {
    const event = decodeEvent(withPayload('{"__proto__":{"isAdmin":true},"n":1}'));
    expect(Object.keys(event.payload)).toEqual(["__proto__", "n"]);
    expect(Object.getPrototypeOf(event.payload)).toBe(Object.prototype);
    expect(Object.hasOwn(event.payload, "isAdmin")).toBe(false);
    expect((event.payload as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(encodeEvent(event)).toContain('"payload":{"__proto__":{"isAdmin":true},"n":1}');
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it("keeps constructor.prototype and nested __proto__ keys, and pollutes nothing", () => {
    const payload =
      '{"constructor":{"prototype":{"polluted":true}},"a":[{"__proto__":{"polluted":true}}]}';
    const event = decodeEvent(withPayload(payload));
    expect(JSON.stringify(event.payload)).toBe(payload);
    expect(encodeEvent(event)).toContain(`"payload":${payload}`);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("checks what a __proto__ key holds, as any other key's value", () => {
    expect(decodeIssues(withPayload('{"__proto__":{"n":1e400}}'))).toEqual([
      { path: ["payload"], message: "must hold only finite numbers, within double range" },
    ]);
    expect(
      decodeIssues(
        withPayload(
          `{"__proto__":${"[".repeat(MAX_PAYLOAD_DEPTH)}${"]".repeat(MAX_PAYLOAD_DEPTH)}}`,
        ),
      ),
    ).toEqual([{ path: ["payload"], message: TOO_DEEP }]);
  });

  it("publishes a payload built in code with a __proto__ key unchanged", () => {
    const payload = JSON.parse('{"__proto__":{"x":1}}') as JsonObject;
    const event = createEvent({
      type: EventType.ISSUE_CREATED,
      project_id: projectId,
      actor_type: "system",
      payload,
    });
    expect(decodeEvent(encodeEvent(event)).payload).toEqual(payload);
    expect(Object.keys(decodeEvent(encodeEvent(event)).payload)).toEqual(["__proto__"]);
  });
});

describe("codec - timestamps the wire can carry", () => {
  it.each([
    ["a year past 9999 once the offset is applied", "9999-12-31T23:59:00-00:01"],
    ["year 0, which Python's datetime does not have", "0000-06-01T00:00:00Z"],
    ["year 0 once the offset is applied", "0001-01-01T00:30:00+01:00"],
  ])("refuses %s (%s)", (_, timestamp) => {
    expect(decodeIssues(pythonWire(timestamp))).toEqual([
      {
        path: ["timestamp"],
        message: "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z",
      },
    ]);
  });

  it("accepts the first and last instants, and re-encodes them", () => {
    for (const timestamp of [
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999Z",
      "0001-01-01T01:00:00+01:00",
    ]) {
      const event = decodeEvent(pythonWire(timestamp));
      expect(decodeEvent(encodeEvent(event))).toEqual(event);
    }
  });
});
