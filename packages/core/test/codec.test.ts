import { describe, expect, it } from "vitest";
import { createEvent, decodeEvent, EventType, encodeEvent, ValidationError } from "../src/index.js";

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
