/**
 * The `_position` field that carries a live message's position: written as
 * the publish script writes it, read back as a full parse would read it, and
 * never a crash, whatever the message.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tryDecodeEvent, tryDecodePositionedEvent } from "../src/codec.js";
import { readWirePosition, type WirePosition, withWirePosition } from "../src/history/wire.js";
import { decodeEvent, encodeEvent, type JsonValue, positionOfEvent } from "../src/index.js";
import { sampleEvent } from "./helpers.js";
import { HISTORY_PROJECT } from "./history-helpers.js";

const wirePosition: fc.Arbitrary<WirePosition> = fc.record({
  epoch: fc.stringMatching(/^[0-9A-Za-z_-]{1,32}$/),
  offset: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

/** What the field means, read the slow way: the top-level `_position` of the parsed message. */
function reference(data: string): WirePosition | undefined | "invalid" {
  const value = (JSON.parse(data) as Record<string, unknown>)._position;
  if (value === undefined && !Object.hasOwn(JSON.parse(data), "_position")) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "invalid";
  const { epoch, offset } = value as Record<string, unknown>;
  const epochOk = typeof epoch === "string" && /^[0-9A-Za-z_-]{1,32}$/.test(epoch);
  const offsetOk = typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 1;
  return epochOk && offsetOk ? { epoch, offset } : "invalid";
}

function read(data: string): WirePosition | undefined | "invalid" {
  const result = readWirePosition(data);
  return result.ok ? result.position : "invalid";
}

describe("history wire - the _position field", () => {
  it("appends the position as the last member, and reads it back with the event", () => {
    fc.assert(
      fc.property(wirePosition, fc.jsonValue(), (position, extra) => {
        const event = sampleEvent(HISTORY_PROJECT, { payload: { extra: extra as JsonValue } });
        const data = encodeEvent(event);
        const message = withWirePosition(data, position);
        expect(
          message.endsWith(
            `,"_position":{"epoch":"${position.epoch}","offset":${position.offset}}}`,
          ),
        ).toBe(true);
        const decoded = tryDecodePositionedEvent(message);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        expect(decoded.event).toEqual(decodeEvent(data)); // JSON has no -0: compare with a plain decode
        expect(decoded.position).toEqual(
          positionOfEvent(position.epoch, position.offset, event.id),
        );
      }),
    );
  });

  it("reads the top-level field exactly as a full parse would, wherever the key appears", () => {
    const key = fc.constantFrom(
      "_position",
      "epoch",
      "offset",
      "a",
      '"_position":',
      'x,"_position":',
    );
    const positionLike = fc.oneof(
      wirePosition,
      fc.record({
        epoch: fc.string({ maxLength: 5 }),
        offset: fc.oneof(fc.integer(), fc.double()),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        positionLike,
        fc.dictionary(key, tie("node"), { maxKeys: 4 }),
        fc.array(tie("node"), { maxLength: 3 }),
      ),
    })).node;
    const message = fc
      .tuple(fc.dictionary(key, value, { maxKeys: 5 }), fc.option(positionLike), fc.boolean())
      .map(([object, last, spaced]) => {
        const whole = last === null ? object : { ...object, _position: last };
        return spaced ? JSON.stringify(whole, null, 1) : JSON.stringify(whole);
      });
    fc.assert(
      fc.property(message, (data) => {
        expect(read(data)).toEqual(reference(data));
      }),
      { numRuns: 1_000 },
    );
  });

  it("never throws on any message, JSON or not", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'{}[],:"_position0123 epochoffset\\'), maxLength: 120 }),
      fc.jsonValue().map((json) => JSON.stringify(json)),
    );
    fc.assert(
      fc.property(text, (data) => {
        readWirePosition(data);
        const decoded = tryDecodePositionedEvent(data);
        if (!decoded.ok) expect(decoded.error.code).toBe("EVENTBUS_VALIDATION");
      }),
      { numRuns: 2_000 },
    );
  });

  it("decodes a message without the field (a plain PUBLISH, such as Python's) with no position", () => {
    const data = encodeEvent(sampleEvent(HISTORY_PROJECT));
    expect(tryDecodePositionedEvent(data)).toEqual({
      ...tryDecodeEvent(data),
      position: undefined,
    });
  });

  it("ignores a _position inside the payload", () => {
    const event = sampleEvent(HISTORY_PROJECT, {
      payload: { _position: { epoch: "e", offset: 5 } },
    });
    const decoded = tryDecodePositionedEvent(encodeEvent(event));
    expect(decoded).toMatchObject({ ok: true, position: undefined });
  });

  it("finds the field where another writer put it, spaces and all", () => {
    const event = sampleEvent(HISTORY_PROJECT);
    const wire = JSON.parse(encodeEvent(event));
    const data = JSON.stringify({ _position: { epoch: "abc", offset: 9 }, ...wire }, null, 2);
    expect(tryDecodePositionedEvent(data)).toMatchObject({
      ok: true,
      position: positionOfEvent("abc", 9, event.id),
    });
  });

  it.each([
    ["a string", '"abc.9"'],
    ["offset 0", '{"epoch":"abc","offset":0}'],
    ["a fractional offset", '{"epoch":"abc","offset":1.5}'],
    ["an offset beyond 2^53 - 1", '{"epoch":"abc","offset":9007199254740993}'],
    ["an epoch with a quote", '{"epoch":"a\\"b","offset":1}'],
    ["no epoch", '{"offset":1}'],
    ["null", "null"],
  ])("skips a message whose _position is %s, as a schema error", (_label, field) => {
    const data = `${encodeEvent(sampleEvent(HISTORY_PROJECT)).slice(0, -1)},"_position":${field}}`;
    const decoded = tryDecodePositionedEvent(data);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toBe("schema");
    expect(decoded.error.issues[0]?.path).toEqual(["_position"]);
  });

  it("refuses to append to what is not a non-empty JSON object", () => {
    for (const data of ["", "[]", "{}", " { } ", '"x"', '{"a":1} ']) {
      expect(() => withWirePosition(data, { epoch: "e", offset: 1 }), data).toThrow(TypeError);
    }
    expect(withWirePosition(' {"id":"x"}', { epoch: "e", offset: 2 })).toBe(
      ' {"id":"x","_position":{"epoch":"e","offset":2}}',
    );
  });

  it("keeps the event id's fingerprint in the position, not on the wire", () => {
    const event = sampleEvent(HISTORY_PROJECT, { id: randomUUID() });
    const message = withWirePosition(encodeEvent(event), { epoch: "e", offset: 4 });
    expect(message).not.toContain(positionOfEvent("e", 4, event.id).fingerprint);
  });
});
