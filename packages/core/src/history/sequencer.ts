/**
 * Keeps one channel's delivery contiguous: the rules that make a resume and
 * a live reconnect gap-free, written once over an abstract history read so
 * that they are unit-tested without a server and shared by the bus's two
 * uses of them (each channel's live feed, and each subscription that resumes
 * from a position). See `docs/history.md`, "Resume and live gaps".
 */
import type { Event } from "../events.js";
import type { Position } from "./position.js";
import type { HistoryGap } from "./store.js";

/**
 * Why a sequence could not be kept contiguous, as a gap reports it:
 * - a {@link HistoryGap}: history no longer holds what was missed;
 * - `replay-limit`: more events were missed than the resume may replay;
 * - `unavailable`: history could not be read (the server kept failing).
 */
export type GapReason = HistoryGap | "replay-limit" | "unavailable";

/** An event as received, with the position its message carried (none for a plain `PUBLISH`). */
export interface SequencedEvent {
  readonly event: Event;
  readonly position: Position | undefined;
}

/**
 * A break in a channel's sequence: the events after `after` and up to
 * `resumeFrom` may be missing. The consumer reloads from its source of truth;
 * delivery goes on after `resumeFrom` (unknown when history was `unavailable`).
 */
export interface SequenceGap {
  readonly reason: GapReason;
  readonly after: Position | undefined;
  readonly resumeFrom: Position | undefined;
}

/** A page of decoded history, as the bus reads it for a sequencer. */
export type SequencerPage = {
  readonly events: readonly { readonly event: Event; readonly position: Position }[];
  readonly current: Position;
  readonly more: boolean;
} & ({ readonly complete: true } | { readonly complete: false; readonly gap: HistoryGap });

/** What a catch-up did: how many events it replayed, and the first gap it reported. */
export interface CatchUp {
  /** What started it: the first read, a skipped offset or new epoch, or a reconnect. */
  readonly trigger: "start" | "skip" | "resync";
  readonly replayed: number;
  readonly gap: GapReason | undefined;
  /** The position delivery goes on from (`undefined` if history was unavailable). */
  readonly position: Position | undefined;
}

/** Where a sequencer's output goes, in order. */
export interface SequencerOutput {
  event(item: SequencedEvent): void;
  gap(gap: SequenceGap): void;
  /** A catch-up ended: its events and gaps were output before this. */
  caughtUp(result: CatchUp): void;
}

/** What a sequencer is built with. */
export interface SequencerOptions {
  /**
   * Reads the channel's history after `since`, or, without it, just its
   * current position (the latest event at most). Rejects when the read failed.
   */
  readonly read: (since: Position | undefined) => Promise<SequencerPage>;
  readonly output: SequencerOutput;
  /** A catch-up that would replay more than this many events reports a `replay-limit` gap instead. */
  readonly replayLimit: number;
  /** How long to wait before each retry of a failed read; then the gap is `unavailable`. */
  readonly retryDelaysMs: readonly number[];
}

/**
 * One channel's sequence. It outputs events in offset order, each once:
 * while it catches up (the first read, a skipped offset, a new epoch, a
 * reconnect) it holds what arrives live, reads history from its last
 * position, outputs the missed events, then the held ones it has not output
 * yet. What history cannot give is output as a gap at the place it happened,
 * never skipped silently. Events without a position pass in arrival order.
 */
export class ChannelSequencer {
  readonly #options: SequencerOptions;
  /** The last position output (or started from). */
  #last: Position | undefined;
  /**
   * What arrived while catching up, each with its arrival number; `undefined`
   * while live. A new sequencer holds from the start: what is offered before
   * {@link start} waits for it.
   */
  #held: { readonly item: SequencedEvent; readonly arrival: number }[] | undefined = [];
  /** How many events were offered so far: the arrival number of the next. */
  #arrivals = 0;
  /**
   * The last position is the channel's top read at the start, with no event
   * since: an event at or below it that arrives live was published after the
   * subscription was confirmed (its message was still on its way when the
   * read answered), so it is delivered rather than taken for a duplicate.
   */
  #loose = false;
  /** A resync was asked for during a catch-up: read once more before going live. */
  #again = false;
  #closed = false;

  constructor(options: SequencerOptions) {
    this.#options = options;
  }

  /** The last position output or started from: where this sequence would resume. */
  get last(): Position | undefined {
    return this.#last;
  }

  /**
   * The position every later output lies beyond, or `undefined` while that
   * is not known: before the start, and after a start at the channel's top
   * until the first event arrives (one still on its way may lie below it).
   */
  get floor(): Position | undefined {
    return this.#loose ? undefined : this.#last;
  }

  /** Whether it is catching up (holding live events) rather than passing them on. */
  get catchingUp(): boolean {
    return this.#held !== undefined;
  }

  /**
   * Starts the sequence: from `since` (replaying every retained event after
   * it, or reporting why not), or from the channel's current position. Live
   * events offered meanwhile are held and merged. Resolves once caught up.
   */
  start(since: Position | undefined): Promise<CatchUp> {
    this.#last = since;
    this.#held ??= [];
    return this.#catchUp("start", since === undefined);
  }

  /** Takes one live event: outputs it, drops it as already output, or catches up first. */
  offer(item: SequencedEvent): void {
    if (this.#closed) return;
    const arrival = this.#arrivals++;
    const held = this.#held;
    if (held !== undefined) {
      held.push({ item, arrival });
      return;
    }
    const position = item.position;
    const last = this.#last;
    if (position === undefined || last === undefined) {
      if (position !== undefined) this.#last = position;
      this.#options.output.event(item);
      return;
    }
    if (position.epoch === last.epoch) {
      if (this.#loose && position.offset <= last.offset + 1) {
        this.#loose = false;
        this.#last = position;
        this.#options.output.event(item);
        return;
      }
      // The same offset naming another event: offsets were reused (a promoted replica lost writes).
      const reused =
        position.offset === last.offset &&
        last.fingerprint !== undefined &&
        position.fingerprint !== last.fingerprint;
      if (position.offset <= last.offset && !reused) return;
      if (position.offset === last.offset + 1) {
        this.#last = position;
        this.#options.output.event(item);
        return;
      }
    }
    this.#held = [{ item, arrival }];
    void this.#catchUp("skip", false);
  }

  /**
   * Reads what may have been missed while the connection was down: a live
   * sequence catches up from its last position (a sequence that never had
   * one has nothing to catch up from).
   */
  resync(): void {
    if (this.#closed) return;
    if (this.#held !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#last === undefined) return;
    this.#held = [];
    void this.#catchUp("resync", false);
  }

  /** Stops outputting anything; a catch-up under way ends quietly. */
  close(): void {
    this.#closed = true;
    this.#held = undefined;
  }

  /**
   * Reads from the last position until what was held joins on, outputting
   * missed events, gaps and then the held events; then goes live.
   * @param fromTop - start at the channel's current position rather than after `#last`.
   */
  async #catchUp(trigger: CatchUp["trigger"], fromTop: boolean): Promise<CatchUp> {
    const { output } = this.#options;
    let replayed = 0;
    let firstGap: GapReason | undefined;
    const gap = (reported: SequenceGap): void => {
      firstGap ??= reported.reason;
      output.gap(reported);
    };
    let budget = this.#options.replayLimit;
    let readFromTop = fromTop;
    for (;;) {
      this.#again = false;
      const since = readFromTop ? undefined : this.#last;
      readFromTop = false;
      const readAfter = this.#arrivals;
      const page = await this.#readWithRetries(since);
      if (this.#closed) return { trigger, replayed, gap: firstGap, position: this.#last };
      if (page === undefined) {
        gap({ reason: "unavailable", after: since, resumeFrom: undefined });
        // Nothing to join on: what was held goes out as it came, and the next position anchors.
        this.#last = undefined;
        this.#drainHeld(true);
      } else if (since === undefined) {
        this.#last = this.#startingPoint(page.current);
        this.#loose = this.#held?.length === 0;
      } else {
        this.#loose = false;
        const reason = this.#unrecoverable(page, since, budget);
        if (reason === "foreign-epoch" && trigger !== "start") {
          // History was lost while this sequence was live: what the new epoch holds came after
          // what it delivered, so it is delivered, from the start. (A resume from a position
          // of another epoch reloads instead: its consumer was away for who knows how long.)
          const start = { epoch: page.current.epoch, offset: 0 };
          gap({ reason, after: since, resumeFrom: start });
          this.#last = start;
          continue;
        }
        if (reason !== undefined) {
          gap({ reason, after: since, resumeFrom: page.current });
          this.#last = page.current;
        } else {
          for (const entry of page.events) {
            if (entry.position.offset <= (this.#last?.offset ?? 0)) continue;
            this.#last = entry.position;
            output.event(entry);
            replayed++;
            budget--;
          }
          if (page.more) continue;
          // What the read covered and did not give was malformed (skipped and reported).
          if ((this.#last?.offset ?? 0) < page.current.offset) this.#last = page.current;
        }
      }
      if (
        !this.#drainHeld(false) &&
        page !== undefined &&
        this.#isAheadOf(page.current, readAfter)
      ) {
        // Live delivered an event history never had (a failover lost writes): no read can
        // join them, so report it and go on from the held event.
        const next = this.#held?.[0]?.item.position as Position;
        const resumeFrom = { epoch: next.epoch, offset: next.offset - 1 };
        gap({ reason: "unavailable", after: this.#last, resumeFrom });
        this.#last = resumeFrom;
        this.#drainHeld(false);
      }
      if (this.#held?.length === 0 && !this.#again) {
        this.#held = undefined;
        const result = { trigger, replayed, gap: firstGap, position: this.#last };
        output.caughtUp(result);
        return result;
      }
    }
  }

  /**
   * Where a sequence started at the channel's `current` position begins: just
   * before the first event held since the subscription was confirmed (those
   * were published after it, so they are delivered), else at `current`.
   */
  #startingPoint(current: Position): Position {
    const first = this.#held?.find(({ item }) => item.position !== undefined)?.item.position;
    if (first === undefined || first.epoch !== current.epoch || first.offset > current.offset) {
      return current;
    }
    return { epoch: current.epoch, offset: first.offset - 1 };
  }

  /** Why a read after `since` cannot be replayed as it is, or `undefined` if it can. */
  #unrecoverable(page: SequencerPage, since: Position, budget: number): GapReason | undefined {
    if (!page.complete) return page.gap;
    const missed = page.current.offset - since.offset;
    return page.current.epoch === since.epoch && missed > budget ? "replay-limit" : undefined;
  }

  /**
   * Whether the first held event lies beyond `current`, the top history
   * reported in a read made after that event arrived (`readAfter` events had
   * arrived when the read was made): the script appends before it publishes,
   * so such a read must have held it. A later arrival just needs another read.
   */
  #isAheadOf(current: Position, readAfter: number): boolean {
    const next = this.#held?.[0];
    const position = next?.item.position;
    return (
      next !== undefined &&
      next.arrival < readAfter &&
      position !== undefined &&
      position.epoch === current.epoch &&
      position.offset > current.offset + 1
    );
  }

  /**
   * Outputs the held events that join on the last position (dropping those
   * already output), up to the first that does not; with `all`, every one.
   * Answers whether none is left.
   */
  #drainHeld(all: boolean): boolean {
    const held = this.#held;
    if (held === undefined) return true;
    let index = 0;
    for (; index < held.length; index++) {
      const { item } = held[index] as { readonly item: SequencedEvent };
      const position = item.position;
      const last = this.#last;
      if (position !== undefined && last !== undefined && !all) {
        if (position.epoch !== last.epoch || position.offset > last.offset + 1) break;
        if (position.offset <= last.offset) continue;
      }
      if (position !== undefined) this.#last = position;
      this.#options.output.event(item);
    }
    held.splice(0, index);
    return held.length === 0;
  }

  async #readWithRetries(since: Position | undefined): Promise<SequencerPage | undefined> {
    const delays = this.#options.retryDelaysMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#options.read(since);
      } catch {
        const delay = delays[attempt];
        if (delay === undefined || this.#closed) return undefined;
        await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
      }
    }
  }
}
