/**
 * How a position travels with a live message: one extra top-level field,
 * `"_position":{"epoch":"<epoch>","offset":<offset>}`, appended as the last
 * member of the event's JSON object. The Python original's pydantic model
 * ignores unknown fields, so it still parses the message; our decoder reads
 * the field back (`tryDecodePositionedEvent` in `codec.ts`).
 *
 * The history publish script (`history-publish.lua`) appends the field in
 * Redis; {@link withWirePosition} is its twin for the in-memory store. The
 * position's fingerprint does not travel: a receiver computes it from the
 * event's id.
 */
import { isPlainObject } from "../json.js";
import { EPOCH_PATTERN } from "./position.js";

/** The top-level field that carries a live message's position. */
export const WIRE_POSITION_FIELD = "_position";

/** The part of a position that travels on the wire. */
export interface WirePosition {
  readonly epoch: string;
  readonly offset: number;
}

/** What {@link readWirePosition} found: a position, none, or a field that is not one. */
export type WirePositionResult =
  | { readonly ok: true; readonly position: WirePosition | undefined }
  | { readonly ok: false; readonly message: string };

const KEY = `"${WIRE_POSITION_FIELD}":`;
const EMPTY_OBJECT = /^[ \t\r\n]*\{[ \t\r\n]*\}$/;
const OBJECT_START = /^[ \t\r\n]*\{/;

/**
 * Checks that the script can append the position field to `data`: it starts
 * with `{`, ends with `}` and is not an empty object (the publish script's
 * own rule). Both stores check before appending.
 * @throws {TypeError} it cannot.
 */
export function checkCanCarryPosition(data: string): void {
  if (!data.endsWith("}") || !OBJECT_START.test(data) || EMPTY_OBJECT.test(data)) {
    throw new TypeError("the event data must be a non-empty JSON object");
  }
}

/**
 * `data` (an event's JSON object) with the position field appended, as the
 * publish script writes it.
 * @throws {TypeError} see {@link checkCanCarryPosition}.
 */
export function withWirePosition(data: string, position: WirePosition): string {
  checkCanCarryPosition(data);
  return `${data.slice(0, -1)},${KEY}{"epoch":"${position.epoch}","offset":${position.offset}}}`;
}

/**
 * Reads the position field of a message that is valid JSON (call it after the
 * message decoded as an event). Absent field: `position` is `undefined` (a
 * plain Pub/Sub publisher, such as the Python original). A field that is not
 * an object of an epoch and an offset of 1 or more: not ok. Never throws.
 *
 * The field the script appends is the object's last member, so the common
 * case parses only the text after the last `"_position":`; any other layout
 * falls back to parsing the whole message.
 */
export function readWirePosition(data: string): WirePositionResult {
  const at = data.lastIndexOf(KEY);
  if (at === -1) return { ok: true, position: undefined };
  let value: unknown;
  let found = false;
  if (data[at - 1] === "," && data.endsWith("}")) {
    // In valid JSON a raw `,"_position":` is a member's key; if what follows it,
    // up to the last `}`, is one JSON value, that member is the top level's last.
    try {
      value = JSON.parse(data.slice(at + KEY.length, -1));
      found = true;
    } catch {
      // Not the last member of the top level: read the whole message below.
    }
  }
  if (!found) {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return { ok: false, message: "the message is not JSON" };
    }
    if (!isPlainObject(json) || !Object.hasOwn(json, WIRE_POSITION_FIELD)) {
      return { ok: true, position: undefined };
    }
    value = json[WIRE_POSITION_FIELD];
  }
  return checkWirePosition(value);
}

function checkWirePosition(value: unknown): WirePositionResult {
  if (!isPlainObject(value)) return { ok: false, message: "must be an object" };
  const { epoch, offset } = value;
  if (typeof epoch !== "string" || !EPOCH_PATTERN.test(epoch)) {
    return { ok: false, message: "epoch must be 1 to 32 of A-Z a-z 0-9 _ -" };
  }
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 1) {
    return { ok: false, message: "offset must be an integer from 1 to 2^53 - 1" };
  }
  return { ok: true, position: { epoch, offset } };
}
