/**
 * The shipped JSON Schema (`@eventbus/core/event.schema.json`, written by the
 * build) read by a standard validator, as a service in another language would:
 * it accepts what the Python original and this library write, and refuses what
 * the codec refuses.
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { createEvent, decodeEvent, EVENT_TYPES, encodeEvent } from "../src/index.js";

const schema = JSON.parse(readFileSync(new URL("../event.schema.json", import.meta.url), "utf8"));
// Formats are left out: the schema's patterns carry the same constraints.
const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);

const projectId = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";
const python = (change: Record<string, unknown> = {}) => ({
  id: "8c9d7f10-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
  type: "approval.requested",
  timestamp: "2025-12-29T23:48:23.123456Z",
  project_id: projectId,
  actor_id: null,
  actor_type: "agent",
  payload: { approval_id: 7, reasons: ["deploy"], meta: { urgent: true } },
  ...change,
});

describe("json schema - event.schema.json", () => {
  it("accepts every event this library encodes", () => {
    for (const type of EVENT_TYPES) {
      const wire = JSON.parse(
        encodeEvent(
          createEvent({ type, project_id: projectId, actor_type: "system", payload: { type } }),
        ),
      );
      expect(validate(wire), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it.each([
    "2025-12-29T23:48:23.123456Z",
    "2025-12-29T23:48:23.123456+00:00",
    "2025-12-30T01:48:23+02:00",
  ])("accepts the Python original's JSON with timestamp %s", (timestamp) => {
    expect(validate(python({ timestamp }))).toBe(true);
  });

  it.each([
    ["an unknown type", { type: "issue.deleted" }],
    ["a naive timestamp", { timestamp: "2025-12-29T23:48:23.123456" }],
    ["a project id that is not a UUID", { project_id: "p-1" }],
    ["an unknown actor type", { actor_type: "bot" }],
    ["a payload that is an array", { payload: [] }],
    ["an empty id", { id: "" }],
  ])("refuses %s, as decodeEvent does", (_, change) => {
    expect(validate(python(change))).toBe(false);
    expect(() => decodeEvent(JSON.stringify(python(change)))).toThrow();
  });
});
