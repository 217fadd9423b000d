/**
 * Generators of JSON text, hostile to decoders: lone surrogates and other
 * tricky characters, prototype keys, numbers beyond double range, very wide
 * and very deep values. They produce text, not values, so neither generating
 * nor printing a 100,000-level value recurses per level, and so the text can
 * hold what `JSON.stringify` never writes (raw lone surrogates, `-0`, `1e400`,
 * duplicate keys).
 */
import fc from "fast-check";

const json = (value: unknown): string => JSON.stringify(value);

/**
 * One character that trips decoders or encoders: any code point, a lone
 * surrogate, a line or paragraph separator, NUL and other controls, a quote,
 * a backslash, a byte-order mark, or an astral character.
 */
const trickyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom(
    "\u2028",
    "\u2029",
    "\0",
    "\r",
    "\n",
    "\u0085",
    '"',
    "\\",
    "\ufeff",
    "😀",
    "\u{10ffff}",
  ),
);

/** Any string of up to `maxLength` tricky characters (default 20), lone surrogates included. */
export function anyString(maxLength = 20): fc.Arbitrary<string> {
  return fc.string({ unit: trickyChar, maxLength });
}

/** Keys that mean something to JavaScript objects, or to the event format. */
const SPECIAL_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
  "",
  "0",
  "-1",
  "1e3",
  "id",
  "type",
  "payload",
] as const;

/** `text` without the characters JSON forbids raw in a string: controls, `"` and `\\`. */
function unescaped(text: string): string {
  return [...text].filter((char) => char >= " " && char !== '"' && char !== "\\").join("");
}

/**
 * A JSON string literal: escaped as `JSON.stringify` escapes (lone surrogates
 * as `\ud800`), or raw (lone surrogates and separators unescaped, the
 * characters JSON forbids raw removed), or a literal escape such as `"\u0000"`.
 */
const stringText: fc.Arbitrary<string> = fc.oneof(
  anyString().map((text) => JSON.stringify(text)),
  anyString().map((text) => `"${unescaped(text)}"`),
  fc.constantFrom('"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"', '"\\/"', '"\\u005f_proto__"'),
);

/** A JSON object key: a special key (as written or escaped) or any string literal. */
const keyText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SPECIAL_KEYS).map((key) => JSON.stringify(key)),
  stringText,
);

/** A JSON number: any double, big integers, and literals beyond double range or precision. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(json) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String) },
  fc.constantFrom(
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "-0.0",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "5e-324",
    "9007199254740993",
    "1E+2",
  ),
);

/** A string, number, boolean or null. */
export const scalarText: fc.Arbitrary<string> = fc.oneof(
  stringText,
  numberText,
  fc.constantFrom("true", "false", "null"),
);

/** The text of an array of `items`. */
function arrayOf(items: readonly string[]): string {
  return `[${items.join(",")}]`;
}

/** The text of an object of `[key, value]` members, in order (duplicate keys kept). */
function objectOf(members: readonly (readonly [string, string])[]): string {
  return `{${members.map(([key, value]) => `${key}:${value}`).join(",")}}`;
}

/** A JSON object a few levels deep, with tricky keys and values. */
export const objectText: fc.Arbitrary<string> = fc.letrec<{ value: string; object: string }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      scalarText,
      fc.array(tie("value"), { maxLength: 5 }).map(arrayOf),
      tie("object"),
    ),
    object: fc.array(fc.tuple(keyText, tie("value")), { maxLength: 5 }).map(objectOf),
  }),
).object;

/** How containers nest in {@link nestedText}: all objects, all arrays, or alternating (object first). */
export type NestingShape = "object" | "array" | "mixed";

/**
 * `levels` containers one inside the other around `leaf`, as text: with a
 * scalar leaf the value nests exactly `levels` deep (a scalar is depth 0).
 * Built in one pass, so 100,000 levels cost no recursion.
 */
export function nestedText(levels: number, leaf: string, shape: NestingShape): string {
  const opens: string[] = [];
  const closes: string[] = [];
  for (let level = 0; level < levels; level++) {
    const object = shape === "object" || (shape === "mixed" && level % 2 === 0);
    opens.push(object ? '{"k":' : "[");
    closes.push(object ? "}" : "]");
  }
  return opens.join("") + leaf + closes.reverse().join("");
}

/**
 * A nesting depth: around `bound` (three either side), anywhere up to 300, or
 * far beyond (1,000 to 30,000 levels, where recursive parsers overflow the stack).
 */
export function depthAround(bound: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: Math.max(0, bound - 3), max: bound + 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 2_500, 10_000, 30_000) },
  );
}

/** A value nested {@link depthAround} `bound` levels deep, of any {@link NestingShape}. */
export function deepText(
  bound: number,
  shapes: readonly NestingShape[] = ["object", "array", "mixed"],
) {
  return fc
    .tuple(depthAround(bound), scalarText, fc.constantFrom(...shapes))
    .map(([levels, leaf, shape]) => nestedText(levels, leaf, shape));
}

/** An array or an object of up to 3,000 members, some keys repeated. */
export const wideText: fc.Arbitrary<string> = fc.oneof(
  fc.array(scalarText, { minLength: 100, maxLength: 3_000 }).map(arrayOf),
  fc
    .tuple(fc.integer({ min: 100, max: 3_000 }), fc.integer({ min: 1, max: 3_000 }))
    .map(([count, distinct]) =>
      objectOf(Array.from({ length: count }, (_, i) => [`"k${i % distinct}"`, String(i)] as const)),
    ),
);

/** Any JSON text: ordinary, deep (around `bound` and far beyond) or wide. */
export function anyJsonText(bound: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: objectText },
    { weight: 2, arbitrary: scalarText },
    { weight: 1, arbitrary: deepText(bound) },
    { weight: 1, arbitrary: wideText },
  );
}

/**
 * How deep `value` nests: 0 for a scalar, 1 for an object or array of
 * scalars, and so on. Iterative, so it measures any depth: the tests' own
 * measure, independent of the code under test.
 */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [item, level] = top;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, level);
    for (const child of Object.values(item)) stack.push([child, level + 1]);
  }
  return deepest;
}

/**
 * An equality tester for `expect.addEqualityTesters`: numbers compare as JSON
 * compares them, so `-0` equals `0` (`JSON.stringify(-0)` writes `0`, so a
 * payload's `-0` comes back as `0` after a round trip); other values are left
 * to the default comparison.
 */
export function sameJsonNumber(a: unknown, b: unknown): boolean | undefined {
  return typeof a === "number" && typeof b === "number" ? a === b : undefined;
}
