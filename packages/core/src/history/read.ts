/**
 * The rules that turn what a store fetched into a {@link HistoryRead}: when a
 * read is complete, and why not. Both stores fetch the same window (see
 * {@link planRead}) and let {@link assessRead} judge it, so the rules live in
 * one place and are unit-tested without a server.
 */
import { tryDecodeEvent } from "../codec.js";
import { fingerprintOf, type Position } from "./position.js";
import type { HistoryEntry, HistoryQuery, HistoryRead, HistorySettings } from "./store.js";

/**
 * What a store fetches for a query:
 * - `after`: unless `epoch` is not the channel's, the entries from offset
 *   `from` on, at most `count` (the one at `since` is included, when retained,
 *   so that its fingerprint can be checked);
 * - `latest`: the last `count` entries.
 */
export type ReadPlan =
  | {
      readonly mode: "after";
      readonly epoch: string;
      readonly from: number;
      readonly count: number;
    }
  | { readonly mode: "latest"; readonly count: number };

/** What a store found: the channel's epoch and last offset, and the entries the plan asked for, ascending. */
export interface Fetched {
  readonly epoch: string;
  readonly top: number;
  readonly entries: readonly HistoryEntry[];
}

/**
 * The window to fetch for `query`.
 * @throws {RangeError} `limit` is not a positive integer.
 */
export function planRead(query: HistoryQuery, settings: HistorySettings): ReadPlan {
  const limit = query.limit ?? settings.maxEntries;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`a history read's limit must be a positive integer, got ${limit}`);
  }
  const count = Math.min(limit, settings.maxEntries);
  const { since } = query;
  if (since === undefined) return { mode: "latest", count };
  return { mode: "after", epoch: since.epoch, from: Math.max(1, since.offset), count: count + 1 };
}

/** Judges what was fetched for `plan` (made from `query`); see {@link HistoryRead}. */
export function assessRead(
  fetched: Fetched,
  plan: ReadPlan,
  since: Position | undefined,
): HistoryRead {
  const { epoch, top } = fetched;
  const current: Position = { epoch, offset: top };
  if (plan.mode === "latest" || since === undefined) {
    const { entries } = fetched;
    if (entries.length === Math.min(plan.count, top)) {
      return { entries, current, more: false, complete: true };
    }
    return { entries, current, more: false, complete: false, gap: lostGap(entries) };
  }
  if (since.epoch !== epoch) return gap(current, "foreign-epoch");
  if (since.offset > top) return gap(current, "future");
  let entries = fetched.entries;
  const anchor = entries[0];
  if (anchor !== undefined && anchor.offset === since.offset) {
    if (since.fingerprint !== undefined && since.fingerprint !== fingerprintAt(anchor)) {
      return gap(current, "diverged");
    }
    entries = entries.slice(1);
  }
  entries = entries.slice(0, plan.count - 1);
  // A stream that holds any entry holds every later one up to the top.
  const more = (entries.at(-1)?.offset ?? top) < top;
  const first = entries[0];
  if (since.offset === top || first?.offset === since.offset + 1) {
    return { entries, current, more, complete: true };
  }
  return { entries, current, more, complete: false, gap: lostGap(entries) };
}

/** Events were asked for and are missing: all of them (`expired`), or the oldest (`trimmed`). */
function lostGap(entries: readonly HistoryEntry[]): "trimmed" | "expired" {
  return entries.length === 0 ? "expired" : "trimmed";
}

function gap(current: Position, reason: "foreign-epoch" | "future" | "diverged"): HistoryRead {
  return { entries: [], current, more: false, complete: false, gap: reason };
}

/** The fingerprint of the event stored at an entry, or `undefined` if it is not a valid event. */
function fingerprintAt(entry: HistoryEntry): string | undefined {
  const decoded = tryDecodeEvent(entry.data);
  return decoded.ok ? fingerprintOf(decoded.event.id) : undefined;
}
