/**
 * Positions in a channel's history, and their one string form.
 *
 * A position is an `epoch` (the name of one lifetime of the channel's
 * history, new whenever that history was lost) and an `offset` (1 for the
 * first event of the epoch, one more for each next event, 0 before the
 * first). Positions of events also carry a fingerprint of the event's id, so
 * that a resume can tell when the offset it names now holds another event (a
 * promoted replica that lost the last writes but kept the epoch).
 *
 * The string form is opaque to consumers, URL-safe, free of anything an SSE
 * `id:` line refuses, and at most {@link MAX_POSITION_LENGTH} characters:
 * `<epoch>.<offset>` or `<epoch>.<offset>.<fingerprint>`.
 */
import { InvalidPositionError } from "../errors.js";

/** Where an event, or the top of a channel, sits in the channel's history. */
export interface Position {
  /** The lifetime of the channel's history: 1 to 32 of `A-Z a-z 0-9 _ -`. */
  readonly epoch: string;
  /** 0 before the first event of the epoch, then 1, 2, ... one per event; at most 2^53 - 1. */
  readonly offset: number;
  /**
   * 8 hex digits fingerprinting the id of the event at `offset` (see
   * {@link fingerprintOf}). Present on the position of a delivered event;
   * absent at offset 0 and on a channel's current position read without its event.
   */
  readonly fingerprint?: string;
}

/** The longest string {@link parsePosition} accepts. */
export const MAX_POSITION_LENGTH = 64;

/** An epoch, as both history stores make it and positions carry it. */
export const EPOCH_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;

const POSITION_PATTERN = /^([0-9A-Za-z_-]{1,32})\.(0|[1-9][0-9]{0,15})(?:\.([0-9a-f]{8}))?$/;
const FINGERPRINT_PATTERN = /^[0-9a-f]{8}$/;

/**
 * The string form of a position.
 * @throws {InvalidPositionError} the position is not one {@link parsePosition} would return.
 * @example
 * encodePosition({ epoch: "3fa9c2d10b7e", offset: 17, fingerprint: "9c1f02ab" }); // "3fa9c2d10b7e.17.9c1f02ab"
 */
export function encodePosition(position: Position): string {
  const { epoch, offset, fingerprint } = position;
  const text =
    fingerprint === undefined ? `${epoch}.${offset}` : `${epoch}.${offset}.${fingerprint}`;
  if (!EPOCH_PATTERN.test(epoch)) throw new InvalidPositionError(text, "malformed epoch");
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidPositionError(text, "the offset must be an integer from 0 to 2^53 - 1");
  }
  if (fingerprint !== undefined && (offset === 0 || !FINGERPRINT_PATTERN.test(fingerprint))) {
    throw new InvalidPositionError(
      text,
      "a fingerprint is 8 hex digits, after an offset of 1 or more",
    );
  }
  return text;
}

/**
 * Reads the string form of a position, as a consumer handed it back (an SSE
 * `Last-Event-ID`, a `since` query parameter). Never throws anything else,
 * whatever the string.
 * @throws {InvalidPositionError} malformed, or not a position of this bus's making.
 */
export function parsePosition(text: string): Position {
  if (typeof text !== "string") throw new InvalidPositionError(String(text), "not a string");
  if (text.length > MAX_POSITION_LENGTH) {
    throw new InvalidPositionError(text, `longer than ${MAX_POSITION_LENGTH} characters`);
  }
  const match = POSITION_PATTERN.exec(text);
  if (match === null) {
    throw new InvalidPositionError(text, "expected <epoch>.<offset>[.<fingerprint>]");
  }
  const [, epoch = "", digits = "", fingerprint] = match;
  const offset = Number(digits);
  if (!Number.isSafeInteger(offset)) {
    throw new InvalidPositionError(text, "the offset is beyond 2^53 - 1");
  }
  if (fingerprint === undefined) return { epoch, offset };
  if (offset === 0) throw new InvalidPositionError(text, "offset 0 has no event to fingerprint");
  return { epoch, offset, fingerprint };
}

/**
 * The position of the event with id `eventId` at `offset` of `epoch`.
 * @throws {InvalidPositionError} a malformed epoch, or an offset that is not an integer from 1 to 2^53 - 1.
 */
export function positionOfEvent(epoch: string, offset: number, eventId: string): Position {
  const position = { epoch, offset, fingerprint: fingerprintOf(eventId) };
  encodePosition(position);
  return position;
}

/**
 * The fingerprint of an event id: its 32-bit FNV-1a hash over UTF-16 code
 * units, as 8 lowercase hex digits. Not a security measure: it tells two
 * events at one offset apart with a chance of 1 in 2^32 to miss.
 */
export function fingerprintOf(eventId: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < eventId.length; index++) {
    hash ^= eventId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
