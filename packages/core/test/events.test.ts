import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createEvent,
  EVENT_TYPES,
  type EventInput,
  EventType,
  MAX_PAYLOAD_DEPTH,
  parseEvent,
  ValidationError,
} from "../src/index.js";

const projectId = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";

function issuesOf(run: () => unknown): { path: readonly (string | number)[]; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  throw new Error("expected a ValidationError");
}

/** The issues `createEvent` lists for an event with this payload. */
function payloadIssues(
  payload: unknown,
): { path: readonly (string | number)[]; message: string }[] {
  return issuesOf(() =>
    createEvent({
      type: EventType.AGENT_MESSAGE,
      project_id: projectId,
      actor_type: "agent",
      payload,
    } as unknown as EventInput),
  );
}

describe("events - EventType", () => {
  it("has exactly the thirteen values of the original spec", () => {
    expect(EventType).toEqual({
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
    });
    expect(EVENT_TYPES).toHaveLength(13);
  });
});

describe("events - createEvent", () => {
  it("fills id, timestamp, actor_id and payload when absent", () => {
    const before = Date.now();
    const event = createEvent({
      type: EventType.SPRINT_STARTED,
      project_id: projectId,
      actor_type: "system",
    });
    expect(event.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(event.timestamp.getTime()).toBeGreaterThanOrEqual(before);
    expect(event.timestamp.getTime()).toBeLessThanOrEqual(Date.now());
    expect(event.actor_id).toBeNull();
    expect(event.payload).toEqual({});
    expect(
      createEvent({ type: "sprint.started", project_id: projectId, actor_type: "system" }).id,
    ).not.toBe(event.id);
  });

  it("keeps given fields and lowercases UUIDs", () => {
    const timestamp = new Date("2025-12-29T23:48:23.123Z");
    const actorId = randomUUID();
    const event = createEvent({
      id: "evt-1",
      type: EventType.APPROVAL_GRANTED,
      timestamp,
      project_id: projectId.toUpperCase(),
      actor_id: actorId.toUpperCase(),
      actor_type: "user",
      payload: { approval_id: 7 },
    });
    expect(event).toEqual({
      id: "evt-1",
      type: "approval.granted",
      timestamp,
      project_id: projectId,
      actor_id: actorId,
      actor_type: "user",
      payload: { approval_id: 7 },
    });
  });

  it("treats an explicit undefined as absent", () => {
    const event = createEvent({
      type: EventType.ISSUE_CLOSED,
      project_id: projectId,
      actor_type: "agent",
      actor_id: undefined,
    } as unknown as EventInput);
    expect(event.actor_id).toBeNull();
  });

  it("lists every invalid field with its path", () => {
    const issues = issuesOf(() =>
      createEvent({
        id: "",
        // @ts-expect-error -- invalid on purpose
        type: "issue.deleted",
        project_id: "project-1",
        actor_id: "agent-7",
        // @ts-expect-error -- invalid on purpose
        actor_type: "robot",
      }),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      ["id"],
      ["type"],
      ["project_id"],
      ["actor_id"],
      ["actor_type"],
    ]);
    expect(issues[1]?.message).toContain("issue.created");
  });

  it.each([
    ["a Date", { at: new Date() }],
    ["undefined", { missing: undefined }],
    ["NaN", { ratio: Number.NaN }],
    ["Infinity", { ratio: Number.POSITIVE_INFINITY }],
    ["a function", { run: () => 1 }],
    ["a Map", { map: new Map() }],
    ["a bigint", { big: 1n }],
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is refused
    ["a hole in an array, which JSON writes as null", { list: [, 1] }],
    ["an array as payload", [1, 2]],
    ["null as payload", null],
  ])("refuses a payload holding %s, which JSON would alter", (_, payload) => {
    expect(payloadIssues(payload)).toEqual([
      { path: ["payload"], message: expect.stringContaining("JSON object") },
    ]);
  });

  it("refuses a cyclic payload instead of overflowing the stack", () => {
    const payload: Record<string, unknown> = {};
    payload.self = payload;
    expect(payloadIssues(payload)).toEqual([
      { path: ["payload"], message: expect.stringContaining("levels deep") },
    ]);
  });

  it("refuses a payload nested past the bound, saying so", () => {
    let payload: Record<string, unknown> = { leaf: true };
    for (let level = 1; level <= MAX_PAYLOAD_DEPTH; level++) payload = { next: payload };
    expect(payloadIssues(payload)).toEqual([
      {
        path: ["payload"],
        message: `must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`,
      },
    ]);
  });

  it.each([
    ["a BigInt", 1n],
    [
      "a cyclic object",
      (() => {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        return cyclic;
      })(),
    ],
    ["an array nested 100,000 deep", JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)],
    ["a string of a million characters", "x".repeat(1_000_000)],
  ])("refuses %s as type or actor_type with a short ValidationError", (_, value) => {
    const issues = issuesOf(() =>
      createEvent({
        type: value,
        project_id: projectId,
        actor_type: value,
      } as unknown as EventInput),
    );
    expect(issues.map((issue) => issue.path)).toEqual([["type"], ["actor_type"]]);
    for (const issue of issues) expect(issue.message.length).toBeLessThan(400);
  });

  it("refuses a Date outside years 0001-9999, which the wire cannot carry", () => {
    for (const timestamp of [
      new Date("+010000-01-01T00:00:00Z"),
      new Date("0000-12-31T23:59:59.999Z"),
    ]) {
      expect(
        issuesOf(() =>
          createEvent({
            type: EventType.ISSUE_UPDATED,
            project_id: projectId,
            actor_type: "agent",
            timestamp,
          }),
        ),
      ).toEqual([
        {
          path: ["timestamp"],
          message: "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z",
        },
      ]);
    }
  });

  it("refuses an invalid Date and ids with line breaks", () => {
    const base = {
      type: EventType.ISSUE_UPDATED,
      project_id: projectId,
      actor_type: "agent",
    } as const;
    expect(issuesOf(() => createEvent({ ...base, timestamp: new Date("nope") }))[0]?.path).toEqual([
      "timestamp",
    ]);
    expect(issuesOf(() => createEvent({ ...base, id: "a\nb" }))[0]?.path).toEqual(["id"]);
    expect(issuesOf(() => createEvent({ ...base, id: "x".repeat(201) }))[0]?.path).toEqual(["id"]);
  });
});

describe("events - parseEvent", () => {
  it("refuses what is not an object", () => {
    for (const value of [
      null,
      "event",
      42,
      [createEvent({ type: "issue.created", project_id: projectId, actor_type: "user" })],
    ]) {
      expect(issuesOf(() => parseEvent(value))).toEqual([
        { path: [], message: "must be an object" },
      ]);
    }
  });
});
