/**
 * The fast validators (`src/fast-validators.ts`) must never accept what zod refuses, and
 * where they accept they must return what the zod path returns (same fields,
 * same key order). They may decline what zod accepts; the valid corpus pins
 * that they rarely do. Probe values cover each field systematically;
 * fast-check's generated events mix them with anything at all, and shrink a
 * disagreement to its smallest case.
 */
import { inspect } from "node:util";
import { anyValue, eventText } from "@eventbus/test-fuzz";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEvent, checkParsedWireEvent } from "../src/fast-validators.js";
import * as core from "../src/index.js";
import { type Event, MAX_PAYLOAD_DEPTH, parseEvent, parseWireEvent } from "../src/index.js";

const UUID = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";
const UPPER_UUID = UUID.toUpperCase();

/** What the zod path gives for an in-code event: `parseEvent`, or undefined if it throws. */
function viaZod(value: unknown): Event | undefined {
  try {
    return parseEvent(value);
  } catch {
    return undefined;
  }
}

/** What the zod path of `tryDecodeEvent` gives for parsed wire JSON. */
function viaZodWire(json: unknown): Event | undefined {
  try {
    return parseWireEvent(json);
  } catch {
    return undefined;
  }
}

function expectAgreement(fast: Event | undefined, zod: Event | undefined, label: string): void {
  if (fast === undefined) return;
  expect(zod, `${label}: the fast check accepted what zod refuses`).toBeDefined();
  expect(fast, label).toEqual(zod);
  expect(Object.keys(fast), label).toEqual(Object.keys(zod as Event));
}

class Custom {
  a = 1;
}

const base = {
  id: "evt-1",
  type: "issue.created",
  timestamp: new Date("2025-12-29T23:48:23.123Z"),
  project_id: UUID,
  actor_id: UUID,
  actor_type: "agent",
  payload: { issue_id: "42", labels: ["bug"], n: 3.5, ok: false, none: null },
};

const wireBase = { ...base, timestamp: "2025-12-29T23:48:23.123456Z" };

/** Values tried in every field, valid somewhere or nowhere. */
const values: unknown[] = [
  "",
  "x",
  "a\nb",
  "a\rb",
  "a\0b",
  "x".repeat(200),
  "x".repeat(201),
  UUID,
  UPPER_UUID,
  UUID.replaceAll("-", ""),
  `${UUID.slice(0, 35)}g`,
  `${UUID.slice(0, 35)}G`,
  `${UUID.slice(0, 35)}/`,
  `${UUID.slice(0, 35)}:`,
  `${UUID.slice(0, 35)}@`,
  `${UUID.slice(0, 35)}\``,
  `${UUID.slice(0, 8)}_${UUID.slice(9)}`,
  `${UUID.slice(0, 9)}-${UUID.slice(10)}`,
  `${UUID}0`,
  UUID.slice(1),
  "AbCdEf01-2345-6789-ABCD-ef0123456789",
  "00000000-0000-0000-0000-000000000000",
  `{${UUID}}`,
  ` ${UUID}`,
  "agent",
  "user",
  "system",
  "AGENT",
  "issue.created",
  "approval.denied",
  "issue.created ",
  "2025-12-29T23:48:23Z",
  "2025-12-29T23:48:23.5-05:30",
  "2025-12-29T23:48:23.12Z",
  "2025-12-29T23:48:23.1239Z",
  "2025-12-29T23:48:23.9999999+14:59",
  "2025-12-29T23:48:23.000000000000000000001-23:59",
  "2025-12-29T23:48:23-00:00",
  "0050-01-01T00:00:00Z",
  "0099-12-31T23:59:59.999+01:00",
  "0100-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "9999-12-31T23:59:59.999+00:00",
  "2000-02-29T12:00:00Z",
  "1900-02-29T12:00:00Z",
  "2025-12-29T23:48:23+0530",
  "2025-12-29T23:48Z",
  "2025-12-29 23:48:23Z",
  "2025-12-29T23:48:23z",
  "2024-02-29T00:00:00Z",
  "2025-02-29T00:00:00Z",
  "2025-12-29T24:00:00Z",
  "2025-12-29T23:48:23+24:00",
  0,
  1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  null,
  undefined,
  true,
  {},
  [],
  ["a"],
  new Date(0),
  new Date(Number.NaN),
  { a: 1, b: [1, { c: null }] },
  { a: Number.POSITIVE_INFINITY },
  { a: undefined },
  { a: new Date(0) },
  { a: [1, Number.NaN] },
  Object.assign(Object.create(null), { a: 1 }),
  new Custom(),
  new Map(),
];

const fields = Object.keys(base);

/** An in-code event: each field kept from `base`, set to a probe value, or to anything. */
const inCodeEvents = fc.record(
  Object.fromEntries(
    Object.entries(base).map(([field, value]) => [
      field,
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(value) },
        { weight: 1, arbitrary: fc.constantFrom(...values) },
        { weight: 1, arbitrary: anyValue },
      ),
    ]),
  ),
);

describe("fast validators - in-code events (publish path)", () => {
  it("accepts every valid variant, as zod does", () => {
    const valid = [
      base,
      { ...base, actor_id: null },
      { ...base, project_id: UPPER_UUID, actor_id: UPPER_UUID },
      { ...base, payload: {} },
      { ...base, payload: Object.assign(Object.create(null), { a: 1 }) },
      { ...base, id: "x".repeat(200), extra: "ignored" },
    ];
    for (const event of valid) {
      const fast = checkEvent(event);
      expect(fast, JSON.stringify(event)).toBeDefined();
      expectAgreement(fast, viaZod(event), JSON.stringify(event));
    }
  });

  it("agrees with zod on every field set to every probe value", () => {
    for (const field of fields) {
      for (const value of values) {
        const event = { ...base, [field]: value };
        expectAgreement(checkEvent(event), viaZod(event), `${field} = ${inspect(value)}`);
      }
      const without: Record<string, unknown> = { ...base };
      delete without[field];
      expectAgreement(checkEvent(without), viaZod(without), `${field} absent`);
    }
    for (const value of values) expect(checkEvent(value)).toEqual(viaZod(value));
  });

  it("agrees with zod on generated events", () => {
    fc.assert(
      fc.property(inCodeEvents, (event) => {
        expectAgreement(checkEvent(event), viaZod(event), "generated event");
      }),
      { numRuns: 1_000 },
    );
  });
});

/** Parsed wire JSON: event-shaped text from the fuzz generators, mostly valid, parsed. */
const parsedWire = eventText(core, [UUID]).map((text): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
});

describe("fast validators - parsed wire JSON (receive path)", () => {
  const parse = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  it("accepts what Python and we write, as zod does", () => {
    const valid = [
      wireBase,
      { ...wireBase, actor_id: null },
      { ...wireBase, actor_id: undefined },
      { ...wireBase, project_id: UPPER_UUID, extra: { nested: true } },
      { ...wireBase, timestamp: "2025-12-30T01:48:23.123456+02:00" },
      { ...wireBase, timestamp: "2025-12-29T23:48:23Z" },
      { ...wireBase, payload: { deep: [[[{ a: [1, 2, { b: "c" }] }]]], big: 2 ** 60 } },
    ];
    for (const wire of valid) {
      const json = parse(wire);
      const fast = checkParsedWireEvent(json);
      expect(fast, JSON.stringify(wire)).toBeDefined();
      expectAgreement(fast, viaZodWire(json), JSON.stringify(wire));
    }
  });

  const withPayload = (payload: string): unknown =>
    JSON.parse(JSON.stringify(wireBase).replace(/"payload":\{.*\}\}$/, `"payload":${payload}}`));

  it("leaves to zod the payloads zod refuses: beyond double range, or too deep", () => {
    const refused = [
      '{"a":1e400}',
      '{"a":[-1e400]}',
      '{"__proto__":{"x":1e400}}',
      `${'{"a":'.repeat(MAX_PAYLOAD_DEPTH + 1)}1${"}".repeat(MAX_PAYLOAD_DEPTH + 1)}`,
      `{"a":${"[".repeat(MAX_PAYLOAD_DEPTH)}${"]".repeat(MAX_PAYLOAD_DEPTH)}}`,
    ];
    for (const payload of refused) {
      expect(checkParsedWireEvent(withPayload(payload)), payload).toBeUndefined();
      expect(viaZodWire(withPayload(payload)), payload).toBeUndefined();
    }
  });

  it("accepts prototype keys as data and the deepest payload allowed, as the zod path does", () => {
    const accepted = [
      '{"__proto__":{"x":1}}',
      '{"a":{"__proto__":null}}',
      '{"\\u005f_proto__":1}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `${'{"a":'.repeat(MAX_PAYLOAD_DEPTH)}1${"}".repeat(MAX_PAYLOAD_DEPTH)}`,
    ];
    for (const payload of accepted) {
      const fast = checkParsedWireEvent(withPayload(payload));
      expect(fast, payload).toBeDefined();
      expectAgreement(fast, viaZodWire(withPayload(payload)), payload);
    }
  });

  it("agrees with zod on every field set to every JSON probe value", () => {
    for (const field of fields) {
      for (const value of values) {
        const json = parse({ ...wireBase, [field]: value });
        expectAgreement(
          checkParsedWireEvent(json),
          viaZodWire(json),
          `${field} = ${inspect(value)}`,
        );
      }
    }
    for (const value of values) {
      const json = value === undefined ? undefined : parse(value);
      expectAgreement(checkParsedWireEvent(json), viaZodWire(json), inspect(value));
    }
  });

  it("agrees with zod on generated wire JSON", () => {
    fc.assert(
      fc.property(parsedWire, (json) => {
        expectAgreement(checkParsedWireEvent(json), viaZodWire(json), "generated wire JSON");
      }),
      { numRuns: 1_000 },
    );
  });
});
