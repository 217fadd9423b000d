/**
 * Generators of event-shaped text: events in the wire format, most of them
 * valid or nearly so (so the fuzz reaches past the first check), with any
 * field absent, replaced by hostile JSON, or joined by unknown fields.
 */
import fc from "fast-check";
import { anyJsonText, anyString, deepText, objectText, wideText } from "./json-text.js";

/**
 * The constants of `@eventbus/core` that describe the wire format. Pass the
 * module itself (`import * as core from "@eventbus/core"`): this fixture reads
 * the format from it rather than depending on it.
 */
export interface WireFormat {
  /** The valid `type` values. */
  readonly EVENT_TYPES: readonly string[];
  /** The valid `actor_type` values. */
  readonly ACTOR_TYPES: readonly string[];
  /** The depth bound of a payload: generated payloads cluster around it and reach far beyond. */
  readonly MAX_PAYLOAD_DEPTH: number;
  /** The longest valid id: generated ids cluster around it. */
  readonly MAX_EVENT_ID_LENGTH: number;
}

const json = (value: unknown): string => JSON.stringify(value);

/**
 * A field's text, or `undefined` for an absent field: mostly `valid`,
 * sometimes any JSON (deep, wide, of the wrong type), sometimes absent.
 */
function field(valid: fc.Arbitrary<string>, bound: number): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 30, arbitrary: valid },
    { weight: 1, arbitrary: anyJsonText(bound) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** A UUID in lower or upper case. */
const anyUuid = fc
  .tuple(fc.uuid(), fc.boolean())
  .map(([id, upper]) => (upper ? id.toUpperCase() : id));

/**
 * An ISO 8601 date-time the way publishers write it (`Z` or an offset,
 * fractional seconds of any length or none), with any year from 0000 to 9999
 * (the first and last more often, where an offset moves the instant out of
 * range) and out-of-range fields now and then; or a `Date`'s own ISO string, whose
 * years may have six digits and a sign.
 */
const timestampText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .record({
        year: fc.oneof(
          fc.integer({ min: 1900, max: 2100 }),
          fc.integer({ min: 0, max: 9_999 }),
          fc.constantFrom(0, 1, 9_999),
        ),
        month: fc.integer({ min: 1, max: 12 }),
        day: mostly(1, 28, 31),
        hour: mostly(0, 23, 24),
        minute: fc.integer({ min: 0, max: 59 }),
        second: mostly(0, 59, 60),
        fraction: fc.option(fc.stringMatching(/^[0-9]{1,12}$/)),
        zone: fc.oneof(
          fc.constant("Z"),
          fc
            .tuple(
              fc.constantFrom("+", "-"),
              fc.integer({ min: 0, max: 23 }),
              fc.integer({ min: 0, max: 59 }),
            )
            .map(([sign, hh, mm]) => `${sign}${pad(hh, 2)}:${pad(mm, 2)}`),
        ),
      })
      .map(
        (t) =>
          `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${t.fraction === null ? "" : `.${t.fraction}`}${t.zone}`,
      ),
  },
  { weight: 2, arbitrary: edgeTimestampText() },
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);

/**
 * A date-time within a day of the ends of four-digit years (0000-01-01 and
 * 9999-12-31), written with any offset: in local time it has four digits,
 * in UTC it may not.
 */
function edgeTimestampText(): fc.Arbitrary<string> {
  const day = 86_400_000;
  const first = Date.parse("0000-01-01T00:00:00Z");
  const last = Date.parse("9999-12-31T23:59:59.999Z");
  return fc
    .tuple(
      fc.oneof(
        fc.integer({ min: first - day, max: first + day }),
        fc.integer({ min: last - day, max: last + day }),
      ),
      fc.integer({ min: -1_439, max: 1_439 }),
    )
    .map(([instant, offsetMinutes]) => {
      const local = new Date(instant + offsetMinutes * 60_000).toISOString();
      const sign = offsetMinutes < 0 ? "-" : "+";
      const minutes = Math.abs(offsetMinutes);
      const zone = `${sign}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
      return `${local.replace(/Z$/, "")}${zone}`;
    });
}

/** An integer from `min` to `usual` nine times in ten, else up to `edge` (a day 31, an hour 24). */
function mostly(min: number, usual: number, edge: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min, max: usual }) },
    { weight: 1, arbitrary: fc.integer({ min, max: edge }) },
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** An event id: a UUID, or any string, lengths clustering around the bound. */
function idText(maxIdLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: anyString() },
    fc
      .tuple(fc.integer({ min: maxIdLength - 2, max: maxIdLength + 2 }), anyString(3))
      .map(([length, tail]) => "x".repeat(Math.max(0, length - tail.length)) + tail),
  );
}

/** A payload: a JSON object, ordinary, deep (around the bound and beyond), wide or empty. */
function payloadText(bound: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: objectText },
    { weight: 1, arbitrary: deepText(bound, ["object"]) },
    { weight: 1, arbitrary: deepText(bound, ["mixed"]) },
    { weight: 1, arbitrary: wideText.filter((text) => text.startsWith("{")) },
    { weight: 1, arbitrary: fc.constant("{}") },
  );
}

/**
 * The text of one event-shaped JSON object: each field mostly valid,
 * sometimes hostile or absent; unknown fields (tricky keys, deep values) and
 * repeated keys now and then. Most name one of `projectIds` (in either case),
 * the projects of the channels under test; some another project.
 */
export function eventText(format: WireFormat, projectIds: readonly string[]): fc.Arbitrary<string> {
  const bound = format.MAX_PAYLOAD_DEPTH;
  const project = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...projectIds) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...projectIds).map((id) => id.toUpperCase()),
    },
    { weight: 1, arbitrary: anyUuid },
  );
  return fc
    .record({
      id: field(idText(format.MAX_EVENT_ID_LENGTH).map(json), bound),
      type: field(fc.constantFrom(...format.EVENT_TYPES).map(json), bound),
      timestamp: field(timestampText.map(json), bound),
      project_id: field(project.map(json), bound),
      actor_id: field(fc.oneof(fc.constant("null"), anyUuid.map(json)), bound),
      actor_type: field(fc.constantFrom(...format.ACTOR_TYPES).map(json), bound),
      payload: field(payloadText(bound), bound),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(anyString(8).map(json), anyJsonText(bound)), {
            maxLength: 2,
          }),
        },
      ),
    })
    .map(({ extra, ...fields }) => {
      const members = Object.entries(fields).flatMap(([name, text]) =>
        text === undefined ? [] : [`${json(name)}:${text}`],
      );
      for (const [key, text] of extra) members.push(`${key}:${text}`);
      return `{${members.join(",")}}`;
    });
}

/**
 * A message as it may arrive on a channel: mostly event-shaped JSON (see
 * {@link eventText}); also any JSON, any text, an event cut short, and an
 * event followed by garbage.
 */
export function wireMessages(
  format: WireFormat,
  projectIds: readonly string[],
): fc.Arbitrary<string> {
  const event = eventText(format, projectIds);
  return fc.oneof(
    { weight: 12, arbitrary: event },
    { weight: 2, arbitrary: anyJsonText(format.MAX_PAYLOAD_DEPTH) },
    { weight: 1, arbitrary: anyString(200) },
    {
      weight: 1,
      arbitrary: event.chain((text) => fc.nat({ max: text.length }).map((n) => text.slice(0, n))),
    },
    { weight: 1, arbitrary: fc.tuple(event, anyString(5)).map(([text, tail]) => text + tail) },
  );
}

/**
 * `text` as it arrives after travelling as UTF-8 (through Redis, or an HTTP
 * body): a lone surrogate, which UTF-8 cannot encode, becomes U+FFFD.
 */
export function throughUtf8(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}
