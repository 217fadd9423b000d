/**
 * What a history store is: per channel, the retained events with their
 * offsets, an offset counter that outlives them, and an epoch; appending
 * publishes the event live in the same step. Two implementations keep the
 * same rules: `MemoryHistoryStore` (in-process) and `RedisHistoryStore`
 * (a Stream and a meta hash per channel, one Lua script per operation).
 */
import type { Position } from "./position.js";

/** How much history a store keeps. Every field is optional. */
export interface HistoryOptions {
  /** At most this many events per channel; older ones are trimmed. Default 1,000. */
  readonly maxEntries?: number;
  /**
   * A channel's events expire once nobody has published to it for this long
   * (the offset counter and epoch stay, see `metaTtlMs`). Default 24 h.
   */
  readonly ttlMs?: number;
  /**
   * A channel's epoch and offset counter expire once it has been neither
   * published to nor read for this long; the next publish or read starts a
   * new epoch. At least `ttlMs`. Default 30 days.
   */
  readonly metaTtlMs?: number;
  /**
   * Publishing an event whose id was among the last this many events appended
   * to the channel appends nothing and answers the first append's position
   * (a retry after `PublishFailedError` is safe). 0 turns the check off.
   * Forgotten with the events when they expire. Default 1,000.
   */
  readonly idempotencyWindow?: number;
}

/** {@link HistoryOptions} with every default filled in. */
export type HistorySettings = Required<HistoryOptions>;

/** The defaults of {@link HistoryOptions}. */
export const HISTORY_DEFAULTS = {
  maxEntries: 1_000,
  ttlMs: 24 * 60 * 60 * 1_000,
  metaTtlMs: 30 * 24 * 60 * 60 * 1_000,
  idempotencyWindow: 1_000,
} as const satisfies HistorySettings;

/**
 * Fills in the defaults.
 * @throws {RangeError} `maxEntries`, `ttlMs` or `metaTtlMs` not a positive
 *   integer, `idempotencyWindow` not a non-negative one, or `metaTtlMs` below `ttlMs`.
 */
export function resolveHistorySettings(options: HistoryOptions = {}): HistorySettings {
  const settings = { ...HISTORY_DEFAULTS, ...withoutUndefined(options) };
  for (const key of ["maxEntries", "ttlMs", "metaTtlMs", "idempotencyWindow"] as const) {
    const value = settings[key];
    const least = key === "idempotencyWindow" ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < least) {
      throw new RangeError(`history ${key} must be an integer of at least ${least}, got ${value}`);
    }
  }
  if (settings.metaTtlMs < settings.ttlMs) {
    throw new RangeError("history metaTtlMs must be at least ttlMs");
  }
  return settings;
}

function withoutUndefined(options: HistoryOptions): HistoryOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** An event to append: its wire JSON (a JSON object, as `encodeEvent` writes it) and its id. */
export interface AppendInput {
  /** The event's id: the key of the idempotency check, and what its position fingerprints. */
  readonly eventId: string;
  /** The event's wire JSON; stored as is, and published with the position appended. */
  readonly data: string;
}

/** What an append did. */
export interface Appended {
  /** The event's position (with its fingerprint): new, or the first append's when `duplicate`. */
  readonly position: Position;
  /** The id was within the idempotency window: nothing was stored or published. */
  readonly duplicate: boolean;
}

/** One retained event: its offset in the read's epoch and its wire JSON, as appended. */
export interface HistoryEntry {
  readonly offset: number;
  readonly data: string;
}

/**
 * What a read asks for: the events after `since` (in its epoch), or, without
 * `since`, the latest ones; at most `limit` of them (default and cap: the
 * store's `maxEntries`).
 */
export interface HistoryQuery {
  readonly since?: Position;
  readonly limit?: number;
}

/**
 * Why a read cannot give every event the query asked for. The consumer must
 * reload from its source of truth, then go on from `current`.
 * - `trimmed`: some asked-for events were dropped by `maxEntries`; the entries
 *   are the retained ones after the gap.
 * - `expired`: the channel's events expired (`ttlMs`) while its counter
 *   survived; nothing asked for is retained.
 * - `foreign-epoch`: `since` is of another epoch (history was lost since, or
 *   the position belongs to another channel); no entries.
 * - `future`: `since` is beyond the channel's last offset (a replica that lost
 *   writes, or a made-up position); no entries.
 * - `diverged`: the event at `since` is not the one the position names (its
 *   fingerprint differs): offsets were reused; no entries.
 */
export type HistoryGap = "trimmed" | "expired" | "foreign-epoch" | "future" | "diverged";

/** The answer to a {@link HistoryQuery}. */
export type HistoryRead = {
  /** Ascending, contiguous offsets of `current.epoch`. */
  readonly entries: readonly HistoryEntry[];
  /** The channel's current epoch and last offset (0 before any event); no fingerprint. */
  readonly current: Position;
  /** More events are retained after the last entry (the limit was reached): read on from it. */
  readonly more: boolean;
} & ({ readonly complete: true } | { readonly complete: false; readonly gap: HistoryGap });

/**
 * A channel's history. Both implementations run the conformance suite
 * `test/history-store.conformance.ts`.
 */
export interface HistoryStore {
  /** The bounds this store keeps. */
  readonly settings: HistorySettings;
  /**
   * Appends an event to `channel` and publishes it live, with its position, in
   * one atomic step: subscribers receive events in offset order, and an
   * idempotent duplicate is neither stored nor published again. The first
   * append of an epoch (the first ever, or after the counter expired or was
   * lost) starts a new epoch.
   * @throws {EventBusError} the append failed; it may or may not have happened
   *   (`PublishFailedError`), so retry it with the same event id.
   */
  append(channel: string, input: AppendInput): Promise<Appended>;
  /**
   * Reads retained events of `channel`, and the channel's current position
   * (starting an epoch if it has none, so that an empty channel's position
   * stays valid once events arrive). Reading does not extend the events' life.
   * @throws {RangeError} `limit` is not a positive integer.
   * @throws {EventBusError} the read failed (`HistoryReadFailedError`); nothing changed.
   */
  read(channel: string, query?: HistoryQuery): Promise<HistoryRead>;
}
