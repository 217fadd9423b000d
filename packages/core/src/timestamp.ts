/**
 * The wire's timestamps in one place: the instants it can carry, the ISO 8601
 * pattern and schemas that check them, and the hot paths' formatter and
 * parser, side by side. Python's `datetime` writes ISO 8601 with `Z` or an
 * offset, fractional seconds optional; we write UTC with `Z` and milliseconds.
 */
import { z } from "zod";

/**
 * The first and last instants the wire can carry, in milliseconds: a
 * four-digit year in UTC, from 0001 (Python's `datetime` has no year 0) to
 * 9999. An event outside them could be encoded, but not decoded again.
 */
const EARLIEST_TIME = Date.parse("0001-01-01T00:00:00.000Z");
const LATEST_TIME = Date.parse("9999-12-31T23:59:59.999Z");
const OUT_OF_RANGE = "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z";

/** True for a time (`date.getTime()`) the wire can carry; false for `NaN`. */
export function isWireTime(time: number): boolean {
  return time >= EARLIEST_TIME && time <= LATEST_TIME;
}

/**
 * An ISO 8601 date-time with `Z` or a `±hh:mm` offset, fractional seconds
 * optional: zod's public `datetime` pattern, which {@link WireTimestampSchema}
 * checks (and JSON Schema shows) by construction.
 */
export const TIMESTAMP_PATTERN: RegExp = z.regexes.datetime({ offset: true });

/** A timestamp on the wire: {@link TIMESTAMP_PATTERN}, at an instant {@link isWireTime} accepts. */
export const WireTimestampSchema = z
  .stringFormat("datetime", TIMESTAMP_PATTERN, {
    error: "must be an ISO 8601 date-time with Z or an offset",
  })
  .refine((text) => isWireTime(Date.parse(text)), { error: OUT_OF_RANGE });

/** A timestamp in code: a valid `Date` at an instant {@link isWireTime} accepts. */
export const DateSchema = z
  .date({ error: "must be a valid Date" })
  .refine((date) => isWireTime(+date), {
    error: (issue) => (Number.isNaN(Number(issue.input)) ? "must be a valid Date" : OUT_OF_RANGE),
  });

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));

/**
 * `date.toISOString()`, computed from the time value (`toISOString` cost
 * ~400 ns per call, more than the rest of encoding). Only for a time
 * {@link isWireTime} accepts: it writes four-digit years, as the wire requires.
 */
export function formatTimestamp(date: Date): string {
  const time = date.getTime();
  const days = Math.floor(time / DAY_MS);
  const ms = time - days * DAY_MS;
  // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const seconds = Math.floor(ms / 1_000);
  const hh = TWO_DIGITS[Math.floor(seconds / 3_600)];
  const mm = TWO_DIGITS[Math.floor(seconds / 60) % 60];
  const ss = TWO_DIGITS[seconds % 60];
  const fraction = String(ms % 1_000).padStart(3, "0");
  return `${String(year).padStart(4, "0")}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${hh}:${mm}:${ss}.${fraction}Z`;
}

/**
 * The instant a wire timestamp names, or `undefined` unless `value` is a
 * string {@link WireTimestampSchema} accepts. See {@link timestampDate}.
 */
export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value !== "string" || !TIMESTAMP_PATTERN.test(value)) return undefined;
  const date = timestampDate(value);
  return isWireTime(date.getTime()) ? date : undefined;
}

/** 400 Gregorian years (146,097 days), after which the calendar repeats. */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

/**
 * The instant named by `text`, which {@link TIMESTAMP_PATTERN} matched
 * (check it first, or use {@link parseTimestamp}): read field by field,
 * fractional seconds truncated to milliseconds, the `Date`'s precision.
 * Not `new Date(text)`: V8's general date parser cost as much as the rest of
 * the receive check, and misreads a fraction of more than nine digits that
 * starts with zeros (`.0004000000` as 4 ms).
 */
export function timestampDate(text: string): Date {
  const year = digits(text, 0, 4);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 0x2e /* . */) {
    at++;
    for (let scale = 100; isDigit(text.charCodeAt(at)); at++, scale /= 10) {
      if (scale >= 1) ms += (text.charCodeAt(at) - 0x30) * scale;
    }
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(at);
  if (zone !== 0x5a /* Z */) {
    const minutes = digits(text, at + 1, 2) * 60 + digits(text, at + 4, 2);
    offsetMinutes = zone === 0x2d /* - */ ? -minutes : minutes;
  }
  // `Date.UTC` reads years 0-99 as 1900-1999: those are read 400 years on, and moved back.
  const shift = year < 100 ? FOUR_CENTURIES_MS : 0;
  const utc = Date.UTC(
    year < 100 ? year + 400 : year,
    digits(text, 5, 2) - 1,
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    ms,
  );
  return new Date(utc - shift - offsetMinutes * 60_000);
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + text.charCodeAt(i) - 0x30;
  return value;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
