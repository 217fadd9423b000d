/**
 * The sequencing rules (`ChannelSequencer`) over a model of a channel's
 * history: cases one by one, then fast-check interleavings of live
 * deliveries, lost messages, reconnects and reads answering at any time.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ChannelSequencer,
  type SequencedEvent,
  type SequenceGap,
  type SequencerPage,
} from "../src/history/sequencer.js";
import type { Event, Position } from "../src/index.js";
import { sampleEvent, waitFor } from "./helpers.js";

const PROJECT = randomUUID();

/** A channel's history as a store would answer it: offsets 1..top of one epoch, the last `retain` kept. */
class ModelHistory {
  epoch = "e1";
  readonly events: Event[] = [];
  retain: number;
  failing = 0;

  constructor(retain = Number.POSITIVE_INFINITY) {
    this.retain = retain;
  }

  get top(): number {
    return this.events.length;
  }

  publish(): SequencedEvent {
    const event = sampleEvent(PROJECT);
    this.events.push(event);
    return { event, position: { epoch: this.epoch, offset: this.top } };
  }

  read(since: Position | undefined, pageSize = 3): SequencerPage {
    if (this.failing > 0) {
      this.failing--;
      throw new Error("read failed");
    }
    const current = { epoch: this.epoch, offset: this.top };
    const oldest = Math.max(1, this.top - this.retain + 1);
    const entry = (offset: number) => ({
      event: this.events[offset - 1] as Event,
      position: { epoch: this.epoch, offset },
    });
    if (since === undefined) {
      return { events: [], current, more: false, complete: true };
    }
    if (since.epoch !== this.epoch) {
      return { events: [], current, more: false, complete: false, gap: "foreign-epoch" };
    }
    const from = since.offset + 1;
    const last = Math.min(this.top, since.offset + pageSize);
    const events = [];
    for (let offset = Math.max(from, oldest); offset <= last; offset++) events.push(entry(offset));
    const page = { events, current, more: last < this.top };
    if (from < oldest && from <= this.top) return { ...page, complete: false, gap: "trimmed" };
    return { ...page, complete: true };
  }
}

interface Recorded {
  readonly offsets: number[];
  readonly gaps: SequenceGap[];
  readonly caughtUp: number;
}

function sequencerOn(
  history: ModelHistory,
  options: {
    replayLimit?: number;
    read?: (since: Position | undefined) => Promise<SequencerPage>;
  } = {},
) {
  const recorded = { offsets: [] as number[], gaps: [] as SequenceGap[], caughtUp: 0 };
  const sequencer = new ChannelSequencer({
    read: options.read ?? (async (since) => history.read(since)),
    replayLimit: options.replayLimit ?? Number.POSITIVE_INFINITY,
    retryDelaysMs: [0, 0],
    output: {
      event: (item) => recorded.offsets.push(item.position?.offset ?? -1),
      gap: (gap) => recorded.gaps.push(gap),
      caughtUp: () => {
        recorded.caughtUp++;
      },
    },
  });
  return { sequencer, recorded: recorded as Recorded };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe("sequencer - one case at a time", () => {
  it("a resume replays every event after since, in pages, then the live ones held meanwhile", async () => {
    const history = new ModelHistory();
    for (let index = 0; index < 7; index++) history.publish();
    const { sequencer, recorded } = sequencerOn(history);
    const started = sequencer.start({ epoch: "e1", offset: 2 });
    sequencer.offer(history.publish()); // 8 arrives live during the read
    const result = await started;
    sequencer.offer(history.publish());
    expect(recorded.offsets).toEqual(range(3, 9));
    expect(result).toMatchObject({ replayed: 6, gap: undefined });
    expect(recorded.gaps).toEqual([]);
  });

  it("a start at the current position keeps what arrived after the subscription was confirmed", async () => {
    const history = new ModelHistory();
    history.publish();
    const { sequencer, recorded } = sequencerOn(history);
    const started = sequencer.start(undefined);
    sequencer.offer(history.publish());
    sequencer.offer(history.publish());
    const result = await started;
    expect(recorded.offsets).toEqual([2, 3]);
    expect(result.position).toEqual({ epoch: "e1", offset: 3 });
  });

  it("after a start at the top, an event still on its way below it is delivered, and the floor waits for it", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    const late = history.publish();
    await sequencer.start(undefined);
    expect(sequencer.last).toEqual({ epoch: "e1", offset: 1 });
    expect(sequencer.floor).toBeUndefined();
    sequencer.offer(late);
    expect(recorded.offsets).toEqual([1]);
    expect(sequencer.floor).toEqual({ epoch: "e1", offset: 1 });
  });

  it("a skipped offset is backfilled before the event that revealed it", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer(history.publish());
    history.publish();
    history.publish();
    sequencer.offer(history.publish());
    await waitFor(() => !sequencer.catchingUp);
    expect(recorded.offsets).toEqual([1, 2, 3, 4]);
  });

  it("a duplicate of an event already output is dropped", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    const first = history.publish();
    sequencer.offer(first);
    sequencer.offer(first);
    expect(recorded.offsets).toEqual([1]);
  });

  it("a trimmed resume reports the gap with the current position and goes on live", async () => {
    const history = new ModelHistory(2);
    for (let index = 0; index < 6; index++) history.publish();
    const { sequencer, recorded } = sequencerOn(history);
    const result = await sequencer.start({ epoch: "e1", offset: 1 });
    sequencer.offer(history.publish());
    expect(result.gap).toBe("trimmed");
    expect(recorded.gaps).toEqual([
      {
        reason: "trimmed",
        after: { epoch: "e1", offset: 1 },
        resumeFrom: { epoch: "e1", offset: 6 },
      },
    ]);
    expect(recorded.offsets).toEqual([7]);
  });

  it("a resume beyond the replay limit replays nothing and says so", async () => {
    const history = new ModelHistory();
    for (let index = 0; index < 5; index++) history.publish();
    const { sequencer, recorded } = sequencerOn(history, { replayLimit: 3 });
    const result = await sequencer.start({ epoch: "e1", offset: 1 });
    expect(result).toMatchObject({ gap: "replay-limit", replayed: 0 });
    expect(recorded.offsets).toEqual([]);
    expect(result.position).toEqual({ epoch: "e1", offset: 5 });
  });

  it("a new epoch on the live feed is reported as a gap, then everything of the new epoch is delivered", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer(history.publish());
    history.epoch = "e2";
    history.events.length = 0;
    history.publish();
    sequencer.offer(history.publish());
    await waitFor(() => !sequencer.catchingUp);
    sequencer.offer(history.publish());
    expect(recorded.gaps).toEqual([
      {
        reason: "foreign-epoch",
        after: { epoch: "e1", offset: 1 },
        resumeFrom: { epoch: "e2", offset: 0 },
      },
    ]);
    // Offset 1 of the first epoch, then 1, 2, 3 of the new one.
    expect(recorded.offsets).toEqual([1, 1, 2, 3]);
  });

  it("a resume from another epoch: reported once, from the current position, nothing replayed", async () => {
    const history = new ModelHistory();
    for (let index = 0; index < 5; index++) history.publish();
    const { sequencer, recorded } = sequencerOn(history);
    const result = await sequencer.start({ epoch: "old", offset: 9 });
    expect(result).toMatchObject({ gap: "foreign-epoch", replayed: 0 });
    expect(recorded.gaps.map((gap) => gap.resumeFrom)).toEqual([{ epoch: "e1", offset: 5 }]);
    expect(recorded.offsets).toEqual([]);
  });

  it("history that keeps failing: the gap is reported as unavailable and what was held is delivered", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer(history.publish());
    history.publish();
    history.failing = 3;
    sequencer.offer(history.publish());
    await waitFor(() => !sequencer.catchingUp);
    expect(recorded.gaps.map((gap) => gap.reason)).toEqual(["unavailable"]);
    expect(recorded.offsets).toEqual([1, 3]);
  });

  it("a read that fails once is retried, and nothing is lost", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer(history.publish());
    history.publish();
    history.failing = 1;
    sequencer.offer(history.publish());
    await waitFor(() => !sequencer.catchingUp);
    expect(recorded.gaps).toEqual([]);
    expect(recorded.offsets).toEqual([1, 2, 3]);
  });

  it("live ahead of history (lost writes): reported as unavailable, not read for ever", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer(history.publish());
    const ghost = { event: sampleEvent(PROJECT), position: { epoch: "e1", offset: 5 } };
    sequencer.offer(ghost);
    await waitFor(() => !sequencer.catchingUp);
    expect(recorded.gaps).toEqual([
      {
        reason: "unavailable",
        after: { epoch: "e1", offset: 1 },
        resumeFrom: { epoch: "e1", offset: 4 },
      },
    ]);
    expect(recorded.offsets).toEqual([1, 5]);
  });

  it("events without a position pass in arrival order", async () => {
    const history = new ModelHistory();
    const { sequencer, recorded } = sequencerOn(history);
    await sequencer.start(undefined);
    sequencer.offer({ event: sampleEvent(PROJECT), position: undefined });
    sequencer.offer(history.publish());
    expect(recorded.offsets).toEqual([-1, 1]);
  });
});

/** One step of a model run: publish an event (delivered live or lost), or a reconnect. */
type Step = { readonly kind: "publish"; readonly delivered: boolean } | { readonly kind: "resync" };

const steps = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.boolean().map((delivered) => ({ kind: "publish", delivered }) as Step),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "resync" } as Step) },
  ),
  { maxLength: 60 },
);

/**
 * Runs `plan` with reads answering whenever the scheduler says, each seeing
 * history as it was when issued or, with `lateReads`, when answered; ends
 * with a reconnect and every read answered.
 */
async function runModel(
  scheduler: fc.Scheduler,
  history: ModelHistory,
  plan: readonly Step[],
  since: Position | undefined,
  lateReads: boolean,
): Promise<Recorded> {
  const read = lateReads
    ? async (position: Position | undefined) => {
        await scheduler.schedule(Promise.resolve());
        return history.read(position);
      }
    : scheduler.scheduleFunction(async (position: Position | undefined) => history.read(position));
  const { sequencer, recorded } = sequencerOn(history, { read });
  const started = sequencer.start(since);
  for (const step of plan) {
    if (step.kind === "resync") {
      sequencer.resync();
    } else {
      const item = history.publish();
      if (step.delivered) sequencer.offer(item);
    }
    // Let some reads answer between steps, as a server would.
    if (scheduler.count() > 0) await scheduler.waitOne();
  }
  await scheduler.waitFor(started);
  sequencer.resync();
  await waitFor(async () => {
    if (scheduler.count() > 0) await scheduler.waitAll();
    return !sequencer.catchingUp;
  });
  return recorded;
}

describe("sequencer - every interleaving of live, losses, reconnects and reads", () => {
  it("with everything retained, the output is every offset after the start exactly once, in order, and no gap", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        steps,
        fc.nat(5),
        fc.boolean(),
        async (scheduler, plan, before, lateReads) => {
          const history = new ModelHistory();
          for (let index = 0; index < before + 2; index++) history.publish();
          const since = { epoch: "e1", offset: before };
          const recorded = await runModel(scheduler, history, plan, since, lateReads);
          expect(recorded.gaps).toEqual([]);
          expect(recorded.offsets).toEqual(range(before + 1, history.top));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("started at the current position: every offset from the first delivered on, exactly once, in order, and no gap", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), steps, fc.boolean(), async (scheduler, plan, lateReads) => {
        const history = new ModelHistory();
        const recorded = await runModel(scheduler, history, plan, undefined, lateReads);
        expect(recorded.gaps).toEqual([]);
        const first = recorded.offsets[0] ?? history.top + 1;
        expect(recorded.offsets).toEqual(range(first, history.top));
      }),
      { numRuns: 300 },
    );
  });

  it("with little retained, every offset is output at most once, in order, or lies inside a reported gap", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        steps,
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (scheduler, plan, retain, lateReads) => {
          const history = new ModelHistory(retain);
          const since = { epoch: "e1", offset: 0 };
          const recorded = await runModel(scheduler, history, plan, since, lateReads);
          const offsets = recorded.offsets;
          for (let index = 1; index < offsets.length; index++) {
            expect(offsets[index]).toBeGreaterThan(offsets[index - 1] as number);
          }
          const covered = (offset: number): boolean =>
            recorded.gaps.some(
              (gap) =>
                offset > (gap.after?.offset ?? 0) &&
                offset <= (gap.resumeFrom?.offset ?? Number.POSITIVE_INFINITY),
            );
          for (const offset of range(1, history.top)) {
            if (!offsets.includes(offset)) expect(covered(offset), `offset ${offset}`).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
