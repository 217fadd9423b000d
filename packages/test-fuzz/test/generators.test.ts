/**
 * The generators throw at the code under test what their names promise: a
 * fuzz test over them is only as good as what they reach.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { depthOf, nestedText, type WireFormat, wireMessages } from "../src/index.js";

const format: WireFormat = {
  EVENT_TYPES: ["issue.created"],
  ACTOR_TYPES: ["agent"],
  MAX_PAYLOAD_DEPTH: 64,
  MAX_EVENT_ID_LENGTH: 200,
};

/** What one message would be parsed to, or `undefined` if it is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe("test-fuzz - generators", () => {
  it("nestedText nests exactly as deep as asked, and depthOf measures it without recursion", () => {
    for (const shape of ["object", "array", "mixed"] as const) {
      for (const levels of [0, 1, 2, 64, 65, 100_000]) {
        expect(depthOf(JSON.parse(nestedText(levels, "1", shape))), `${shape} ${levels}`).toBe(
          levels,
        );
      }
    }
  });

  it("wireMessages reaches every kind of hostile input", () => {
    const texts = fc.sample(wireMessages(format, ["6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b"]), {
      numRuns: 1_000,
      seed: 7,
    });
    const values = texts.map(parsed);
    const payloads = values.map((value) => (value as { payload?: unknown } | undefined)?.payload);
    const reached = {
      "not JSON": values.filter((value) => value === undefined).length,
      "a payload at the bound": payloads.filter((payload) => depthOf(payload) === 64).length,
      "a payload one past the bound": payloads.filter((payload) => depthOf(payload) === 65).length,
      "a payload 1,000 levels or more": payloads.filter((payload) => depthOf(payload) >= 1_000)
        .length,
      "a __proto__ key": texts.filter((text) => text.includes('"__proto__"')).length,
      "a lone surrogate": texts.filter((text) => /\p{Cs}/u.test(text) || /\\ud[89a-f]/i.test(text))
        .length,
      "a number beyond double range": texts.filter((text) => text.includes("e400")).length,
      "a wide array or object": texts.filter(
        (text) => text.length > 1_000 && depthOf(parsed(text)) < 10,
      ).length,
    };
    for (const [kind, count] of Object.entries(reached)) expect(count, kind).toBeGreaterThan(3);
  });
});
