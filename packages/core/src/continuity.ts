/**
 * Gap-free delivery on a bus with history: each subscribed channel's live
 * feed is kept contiguous (a skipped offset or a reconnect is backfilled from
 * history, or reported in-band), and each subscription that resumes from a
 * position merges its replay with the live feed, by offset, until the two
 * meet. The rules themselves are {@link ChannelSequencer}'s; this module is
 * their wiring to channels and subscriptions. See `docs/history.md`.
 */
import type { ChannelView } from "./channel-entry.js";
import { encodePosition, type Position } from "./history/position.js";
import {
  type CatchUp,
  ChannelSequencer,
  type SequencedEvent,
  type SequenceGap,
  type SequencerPage,
} from "./history/sequencer.js";
import type { ChannelRecovery, EventSubscription } from "./subscription.js";

/** How long to wait before each retry of a failed history read, before reporting the gap. */
const READ_RETRY_DELAYS_MS = [100, 400, 1_600] as const;

/** A gap as `bus.on("gap")` reports it: a live gap, or a resume that was not complete. */
export interface GapReport {
  readonly channel: string;
  /** `live`: while subscribed (after a reconnect or a skipped offset); `resume`: from `since`. */
  readonly during: "live" | "resume";
  readonly reason: SequenceGap["reason"];
  readonly after: string | undefined;
  readonly resumeFrom: string | undefined;
}

/** Counters of recovery, part of the bus's stats. */
export interface ContinuityStats {
  /** Resumes (a channel subscribed with `since`) that were complete. */
  readonly resumes: number;
  /** Resumes that were not: the subscriber was told to reload. */
  readonly resumesIncomplete: number;
  /** Events replayed to resuming subscriptions. */
  readonly replayed: number;
  /** Live catch-ups from history (after a reconnect or a skipped offset). */
  readonly backfills: number;
  /** Events those catch-ups delivered. */
  readonly backfilled: number;
  /** Live gaps that history could not fill, reported in-band. */
  readonly gaps: number;
}

/** What {@link Continuity} needs from its bus. */
export interface ContinuityHost {
  /** The subscribers of a channel, if anyone wants it. */
  channel(channel: string): ChannelView<EventSubscription, unknown> | undefined;
  /** Reads a channel's history after `since`, or just its current position. */
  read(channel: string, since: Position | undefined): Promise<SequencerPage>;
  /** Reports a gap to the bus's listeners. */
  gap(report: GapReport): void;
}

/**
 * The sequences of one bus: one per subscribed channel (its live feed), and
 * one per channel of each subscription still merging a resume.
 */
export class Continuity {
  readonly #host: ContinuityHost;
  readonly #live = new Map<string, ChannelSequencer>();
  /** Subscriptions whose own sequence still filters a channel's live feed, per channel. */
  readonly #merging = new Map<string, Map<EventSubscription, ChannelSequencer>>();
  #resumes = 0;
  #resumesIncomplete = 0;
  #replayed = 0;
  #backfills = 0;
  #backfilled = 0;
  #gaps = 0;

  constructor(host: ContinuityHost) {
    this.#host = host;
  }

  stats(): ContinuityStats {
    return {
      resumes: this.#resumes,
      resumesIncomplete: this.#resumesIncomplete,
      replayed: this.#replayed,
      backfills: this.#backfills,
      backfilled: this.#backfilled,
      gaps: this.#gaps,
    };
  }

  /** A live message of `channel`, decoded: through the channel's sequence to its subscribers. */
  receive(channel: string, item: SequencedEvent): void {
    const live = this.#live.get(channel);
    if (live === undefined) this.#fanOut(channel, item);
    else live.offer(item);
  }

  /**
   * The server confirmed `channels`: each newly subscribed one starts its
   * live sequence at its current position (events arriving meanwhile wait).
   */
  confirmed(channels: readonly string[]): void {
    for (const channel of channels) {
      if (this.#live.has(channel) || this.#host.channel(channel) === undefined) continue;
      const sequencer: ChannelSequencer = new ChannelSequencer({
        read: (since) => this.#host.read(channel, since),
        replayLimit: Number.POSITIVE_INFINITY,
        retryDelaysMs: READ_RETRY_DELAYS_MS,
        output: {
          event: (item) => this.#fanOut(channel, item),
          gap: (gap) => this.#liveGap(channel, gap),
          caughtUp: (result) => {
            if (result.trigger === "start") return;
            this.#backfills++;
            this.#backfilled += result.replayed;
          },
        },
      });
      this.#live.set(channel, sequencer);
      void sequencer.start(undefined);
    }
  }

  /**
   * A new subscription (just built, nothing delivered yet): each channel
   * starts from its `since` position, or from its current position. A
   * channel whose live feed is settled starts at once; the others get a
   * sequence of their own, started once `sub` is ready, that merges history
   * with what the live feed delivers until the two meet.
   */
  subscribed(
    sub: EventSubscription,
    since: ReadonlyMap<string, Position> | undefined,
    replayLimit: number,
  ): void {
    for (const channel of sub.channels) {
      const from = since?.get(channel);
      const live = this.#live.get(channel)?.floor;
      if (from === undefined && live !== undefined) {
        sub.started(channel, {
          since: undefined,
          position: encodePosition(live),
          replayed: 0,
          complete: true,
        });
        continue;
      }
      const own: ChannelSequencer = new ChannelSequencer({
        read: (position) => this.#host.read(channel, position),
        replayLimit,
        retryDelaysMs: READ_RETRY_DELAYS_MS,
        output: {
          event: (item) => sub.deliver(item.event, channel),
          gap: (gap) => {
            if (from === undefined) this.#gaps++;
            sub.noteGap({ kind: "gap", channel, ...encodeGap(gap) });
            this.#host.gap({
              channel,
              during: from === undefined ? "live" : "resume",
              ...encodeGap(gap),
            });
          },
          caughtUp: (result) => {
            if (result.trigger === "start") this.#started(sub, channel, from, result);
            this.#settle(channel, sub, own);
          },
        },
      });
      let merging = this.#merging.get(channel);
      if (merging === undefined) {
        merging = new Map();
        this.#merging.set(channel, merging);
      }
      merging.set(sub, own);
      sub.ready.then(
        () => own.start(from),
        () => {},
      );
    }
  }

  /** `sub` ended; `gone` are the channels nobody wants any more. */
  left(sub: EventSubscription, gone: readonly string[]): void {
    for (const channel of sub.channels) this.#stopMerging(channel, sub);
    for (const channel of gone) {
      this.#live.get(channel)?.close();
      this.#live.delete(channel);
    }
  }

  /** The connection came back: every live sequence (or those of `channels`) catches up. */
  reconnected(channels?: readonly string[]): void {
    if (channels === undefined) {
      for (const sequencer of this.#live.values()) sequencer.resync();
      return;
    }
    for (const channel of new Set(channels)) this.#live.get(channel)?.resync();
  }

  #started(
    sub: EventSubscription,
    channel: string,
    from: Position | undefined,
    result: CatchUp,
  ): void {
    this.#replayed += result.replayed;
    if (from !== undefined) {
      if (result.gap === undefined) this.#resumes++;
      else this.#resumesIncomplete++;
    }
    const recovery = {
      since: from === undefined ? undefined : encodePosition(from),
      position: result.position === undefined ? undefined : encodePosition(result.position),
      replayed: result.replayed,
    };
    const started: ChannelRecovery =
      result.gap === undefined
        ? { ...recovery, complete: true }
        : { ...recovery, complete: false, gap: result.gap };
    sub.started(channel, started);
  }

  /**
   * Hands `sub` back to the live feed once its own sequence has caught up
   * with it: from then on the live feed delivers nothing `sub` already has.
   */
  #settle(channel: string, sub: EventSubscription, own: ChannelSequencer): void {
    if (own.catchingUp) return;
    const mine = own.last;
    const live = this.#live.get(channel)?.floor;
    if (mine !== undefined) {
      if (live === undefined || live.epoch !== mine.epoch || live.offset < mine.offset) return;
    }
    this.#stopMerging(channel, sub);
  }

  #stopMerging(channel: string, sub: EventSubscription): void {
    const merging = this.#merging.get(channel);
    const own = merging?.get(sub);
    if (merging === undefined || own === undefined) return;
    own.close();
    merging.delete(sub);
    if (merging.size === 0) this.#merging.delete(channel);
  }

  #fanOut(channel: string, item: SequencedEvent): void {
    const entry = this.#host.channel(channel);
    if (entry === undefined) return;
    const merging = this.#merging.get(channel);
    for (const sub of entry.subscribers) {
      const own = merging?.get(sub);
      if (own === undefined) {
        sub.deliver(item.event, channel);
      } else {
        own.offer(item);
        this.#settle(channel, sub, own);
      }
    }
  }

  /** A gap of a channel's live feed: in-band to each subscriber not merging on its own. */
  #liveGap(channel: string, gap: SequenceGap): void {
    this.#gaps++;
    const encoded = encodeGap(gap);
    this.#host.gap({ channel, during: "live", ...encoded });
    const entry = this.#host.channel(channel);
    if (entry === undefined) return;
    const merging = this.#merging.get(channel);
    for (const sub of entry.subscribers) {
      // A subscription merging on its own reads history itself, and reports what it cannot get.
      if (merging?.has(sub) !== true) sub.noteGap({ kind: "gap", channel, ...encoded });
    }
  }
}

function encodeGap(gap: SequenceGap): Pick<GapReport, "reason" | "after" | "resumeFrom"> {
  return {
    reason: gap.reason,
    after: gap.after === undefined ? undefined : encodePosition(gap.after),
    resumeFrom: gap.resumeFrom === undefined ? undefined : encodePosition(gap.resumeFrom),
  };
}
