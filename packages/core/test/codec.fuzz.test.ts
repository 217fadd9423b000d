/**
 * Property tests of the wire decoder: whatever arrives on a channel (event-
 * shaped JSON with hostile fields, any JSON, any text), decoding either gives
 * an event that survives re-encoding unchanged, or refuses with a
 * `ValidationError`. Nothing else may be thrown: no `RangeError` from a stack
 * overflow, no `TypeError` from an error message.
 */
import { anyValue, deepText, depthOf, sameJsonNumber, wireMessages } from "@eventbus/test-fuzz";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import {
  createEvent,
  decodeEvent,
  type Event,
  encodeEvent,
  MAX_PAYLOAD_DEPTH,
  ValidationError,
} from "../src/index.js";
import type { JsonObject } from "../src/json.js";

const projectId = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";

/** Messages for `projectId`'s channel, payloads nesting around the bound and far beyond it. */
const messages = wireMessages(core, [projectId]);

expect.addEqualityTesters([sameJsonNumber]);

/** The event `text` decodes to, or `undefined` if it was refused with a `ValidationError`. */
function decodeOrRefuse(text: string): Event | undefined {
  try {
    return decodeEvent(text);
  } catch (error) {
    expect(error, "only a ValidationError may be thrown").toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.length).toBeGreaterThan(0);
    return undefined;
  }
}

describe("decoder fuzz - any message", () => {
  it("decoder fuzz - decodes to an event that re-encodes and decodes to itself, or is refused with a ValidationError", () => {
    let decoded = 0;
    let refused = 0;
    fc.assert(
      fc.property(messages, (text) => {
        const event = decodeOrRefuse(text);
        if (event === undefined) {
          refused++;
          return;
        }
        decoded++;
        expect(decodeEvent(encodeEvent(event))).toEqual(event);
        // Nothing dropped or changed on the way (prototype keys included), and within the bound.
        expect(event.payload).toEqual(JSON.parse(text).payload);
        expect(depthOf(event.payload)).toBeLessThanOrEqual(MAX_PAYLOAD_DEPTH);
      }),
      { numRuns: 1_000 },
    );
    // Neither all decoded nor all refused: the generated messages reach both outcomes.
    expect(decoded).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

/**
 * Payloads as code may hand them to `createEvent`: objects holding anything
 * (Maps, Dates, boxed values, sparse and typed arrays, null prototypes,
 * BigInts, prototype keys), and JSON nested around the bound and far beyond.
 */
const inCodePayloads = fc.oneof(
  fc.object({
    key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "prototype")),
    values: [anyValue],
  }),
  fc.object({ withNullPrototype: true, stringUnit: "binary" }),
  fc.record({ list: fc.sparseArray(fc.integer()) }),
  deepText(MAX_PAYLOAD_DEPTH).map((text) => ({ deep: JSON.parse(text) })),
);

describe("publish fuzz - any payload", () => {
  it("publish fuzz - createEvent refuses it with a ValidationError, or it survives encoding and decoding unchanged", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(inCodePayloads, (payload) => {
        let event: Event;
        try {
          event = createEvent({
            type: "issue.created",
            project_id: projectId,
            actor_type: "system",
            payload: payload as JsonObject,
          });
        } catch (error) {
          expect(error, "only a ValidationError may be thrown").toBeInstanceOf(ValidationError);
          refused++;
          return;
        }
        accepted++;
        expect(decodeEvent(encodeEvent(event))).toEqual(event);
      }),
      { numRuns: 1_000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
