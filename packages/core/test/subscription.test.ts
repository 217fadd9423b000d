import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  type Delivery,
  type DeliverySink,
  type Event,
  SlowConsumerError,
  SubscribeFailedError,
} from "../src/index.js";
import {
  type DeliveryCounters,
  EventSubscription,
  type OverflowPolicy,
} from "../src/subscription.js";
import { sampleEvent, within } from "./helpers.js";

interface Setup {
  readonly bufferSize?: number;
  readonly overflow?: OverflowPolicy;
  /** What the bus answers when the subscription joins it: its `ready`. */
  readonly ready?: Promise<void>;
  readonly signal?: AbortSignal;
  /** The bus keeps history: each channel reports its start. */
  readonly history?: boolean;
}

function subscription({
  bufferSize = 3,
  overflow = "error",
  ready,
  signal,
  history = false,
}: Setup = {}) {
  const counters: DeliveryCounters = { delivered: 0, dropped: 0, slowConsumers: 0 };
  const attached: (readonly string[])[] = [];
  const detached: EventSubscription[] = [];
  const sub = new EventSubscription(
    ["events:project:x"],
    {
      bufferSize,
      overflow,
      counters,
      attach: (_, channels) => {
        attached.push(channels);
        return ready ?? Promise.resolve();
      },
      detach: (s) => detached.push(s),
      positionOf: (event) => (history ? `p-${event.id}` : undefined),
      history,
    },
    signal,
  );
  return { sub, counters, attached, detached };
}

const events = (count: number) => {
  const projectId = randomUUID();
  return Array.from({ length: count }, (_, seq) => sampleEvent(projectId, { payload: { seq } }));
};

describe("subscription - delivery", () => {
  it("hands an event straight to a waiting next(), and buffers otherwise", async () => {
    const { sub, counters } = subscription();
    const [first, second] = events(2);
    const waiting = sub.next();
    sub.deliver(first as never, "events:project:x");
    expect(await waiting).toEqual({ done: false, value: first });
    sub.deliver(second as never, "events:project:x");
    expect(sub.pending).toBe(1);
    expect(await sub.next()).toEqual({ done: false, value: second });
    expect(counters.delivered).toBe(2);
  });

  it("resolves concurrent next() calls in order", async () => {
    const { sub } = subscription();
    const sent = events(3);
    const waiting = [sub.next(), sub.next(), sub.next()];
    for (const event of sent) sub.deliver(event, "events:project:x");
    expect((await Promise.all(waiting)).map((result) => result.value)).toEqual(sent);
  });
});

describe("subscription - overflow", () => {
  it("error: yields the buffered events, then throws SlowConsumerError once, then is done", async () => {
    const { sub, counters, detached } = subscription({ bufferSize: 2, overflow: "error" });
    const sent = events(3);
    for (const event of sent) sub.deliver(event, "events:project:x");
    expect(detached).toEqual([sub]);
    expect(counters.slowConsumers).toBe(1);
    expect((await sub.next()).value).toBe(sent[0]);
    expect((await sub.next()).value).toBe(sent[1]);
    const error = await sub.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SlowConsumerError);
    expect((error as SlowConsumerError).bufferSize).toBe(2);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
    expect(await sub.closed).toBe(error);
  });

  it("drop-oldest and drop-newest count what they discard", async () => {
    for (const [overflow, kept] of [
      ["drop-oldest", [2, 3]],
      ["drop-newest", [0, 1]],
    ] as const) {
      const { sub, counters } = subscription({ bufferSize: 2, overflow });
      for (const event of events(4)) sub.deliver(event, "events:project:x");
      expect(sub.dropped).toBe(2);
      expect(counters.dropped).toBe(2);
      expect([
        (await sub.next()).value?.payload.seq,
        (await sub.next()).value?.payload.seq,
      ]).toEqual(kept);
    }
  });
});

describe("subscription - ending", () => {
  it("unsubscribe() discards the buffer, detaches once and ends waiting and later next()", async () => {
    const { sub, detached } = subscription();
    sub.deliver(events(1)[0] as never, "events:project:x");
    sub.unsubscribe();
    sub.unsubscribe();
    expect(detached).toHaveLength(1);
    expect(sub.pending).toBe(0);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
    expect(await sub.closed).toBeUndefined();
  });

  it("end() (the bus closing) keeps the buffer for the consumer", async () => {
    const { sub } = subscription();
    const [event] = events(1);
    sub.deliver(event as never, "events:project:x");
    sub.end();
    sub.deliver(events(1)[0] as never, "events:project:x");
    expect(await sub.next()).toEqual({ done: false, value: event });
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it("joins its bus once when built, with its channels, and takes its ready from it", async () => {
    const ready = Promise.resolve();
    const { sub, attached, detached } = subscription({ ready });
    expect(attached).toEqual([["events:project:x"]]);
    expect(sub.ready).toBe(ready);
    expect(sub.channels).toEqual(["events:project:x"]);
    expect(detached).toEqual([]);
  });

  it("a failed confirmation rejects ready and ends the iterator with the same error", async () => {
    const failure = new SubscribeFailedError(["events:project:x"]);
    let fail: (error: Error) => void = () => {};
    const ready = new Promise<void>((_, reject) => {
      fail = reject;
    });
    const { sub, detached } = subscription({ ready });
    const waiting = sub.next();
    fail(failure);
    await expect(sub.ready).rejects.toBe(failure);
    await expect(within(waiting)).rejects.toBe(failure);
    expect(detached).toEqual([sub]);
    expect(await sub.closed).toBe(failure);
  });

  it("an abort ends the subscription and removes its listener", async () => {
    const controller = new AbortController();
    const { sub, detached } = subscription({ signal: controller.signal });
    const waiting = sub.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(detached).toEqual([sub]);
  });

  it("a signal aborted before subscribing ends it at once, after it joined its bus", async () => {
    const controller = new AbortController();
    controller.abort();
    const { sub, attached, detached } = subscription({ signal: controller.signal });
    expect(attached).toHaveLength(1);
    expect(detached).toEqual([sub]);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it("for await leaves through return(), which unsubscribes", async () => {
    const { sub, detached } = subscription();
    for (const event of events(2)) sub.deliver(event, "events:project:x");
    for await (const _ of sub) break;
    expect(detached).toEqual([sub]);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });
});

/** A sink that records what it is handed, and backs up when `accept` says so. */
function recorder(accept: (delivery: Delivery, index: number) => boolean = () => true) {
  const received: Delivery[] = [];
  const ends: (Error | undefined)[] = [];
  const sink: DeliverySink = {
    deliver: (delivery) => {
      received.push(delivery);
      return accept(delivery, received.length - 1);
    },
    end: (error) => ends.push(error),
  };
  const seqs = () =>
    received.map((delivery) =>
      delivery.kind === "event" ? (delivery.event.payload as { seq: number }).seq : delivery.kind,
    );
  return { sink, received, ends, seqs };
}

const CHANNEL = "events:project:x";
const deliver = (sub: EventSubscription, sent: readonly Event[]) => {
  for (const event of sent) sub.deliver(event, CHANNEL);
};

describe("subscription - consume (push-style sink)", () => {
  it("hands what was buffered first, then each item synchronously, notes in sequence", () => {
    const { sub, counters } = subscription({ history: true, bufferSize: 10 });
    const sent = events(4);
    deliver(sub, sent.slice(0, 1));
    sub.started(CHANNEL, { since: undefined, position: "p0", replayed: 0, complete: true });
    const { sink, received, seqs } = recorder();
    sub.consume(sink);
    expect(seqs()).toEqual([0, "start"]);
    deliver(sub, sent.slice(1, 2));
    sub.noteGap({
      kind: "gap",
      channel: CHANNEL,
      reason: "trimmed",
      after: "p1",
      resumeFrom: "p5",
    });
    deliver(sub, sent.slice(2));
    expect(seqs()).toEqual([0, "start", 1, "gap", 2, 3]);
    expect(received[2]).toEqual({
      kind: "event",
      channel: CHANNEL,
      event: sent[1],
      position: `p-${sent[1]?.id}`,
    });
    expect(sub.pending).toBe(0);
    expect(counters.delivered).toBe(4);
  });

  it("buffers while backed up and hands the rest over in order on resume(), until it backs up again", () => {
    const { sub } = subscription({ bufferSize: 10 });
    let open = false;
    const { sink, seqs } = recorder((_, index) => open || index !== 0);
    sub.consume(sink);
    deliver(sub, events(5));
    expect(seqs()).toEqual([0]);
    expect(sub.pending).toBe(4);
    sub.resume();
    expect(seqs()).toEqual([0, 1, 2, 3, 4]);
    expect(sub.pending).toBe(0);
    open = true;
    deliver(sub, events(2));
    expect(seqs()).toEqual([0, 1, 2, 3, 4, 0, 1]);
  });

  it("resume() stops again where the sink backs up", () => {
    const { sub } = subscription({ bufferSize: 10 });
    const { sink, seqs } = recorder(
      (delivery) =>
        delivery.kind !== "event" || (delivery.event.payload as { seq: number }).seq % 2 === 1,
    );
    sub.consume(sink);
    deliver(sub, events(4));
    expect(seqs()).toEqual([0]);
    sub.resume();
    expect(seqs()).toEqual([0, 1, 2]);
    expect(sub.pending).toBe(1);
    sub.resume();
    expect(seqs()).toEqual([0, 1, 2, 3]);
  });

  it("an item arriving while the sink is handed one waits its turn", () => {
    const { sub } = subscription({ bufferSize: 10 });
    const [first, second] = events(2);
    const { sink, seqs } = recorder((_, index) => {
      if (index === 0) sub.deliver(second as Event, CHANNEL);
      return true;
    });
    sub.consume(sink);
    deliver(sub, [first as Event]);
    expect(seqs()).toEqual([0, 1]);
  });

  it("while backed up, drop-oldest and drop-newest apply to the buffer as for an iterator", () => {
    for (const [overflow, expected] of [
      ["drop-oldest", [0, 3, 4]],
      ["drop-newest", [0, 1, 2]],
    ] as const) {
      const { sub, counters } = subscription({ bufferSize: 2, overflow });
      const { sink, seqs } = recorder((_, index) => index !== 0);
      sub.consume(sink);
      deliver(sub, events(5));
      expect(sub.dropped).toBe(2);
      expect(counters.dropped).toBe(2);
      sub.resume();
      expect(seqs()).toEqual(expected);
    }
  });

  it('while backed up, overflow "error" ends the sink at once with SlowConsumerError, the buffer not handed over', async () => {
    const { sub, counters, detached } = subscription({ bufferSize: 2, overflow: "error" });
    const { sink, seqs, ends } = recorder((_, index) => index !== 0);
    sub.consume(sink);
    deliver(sub, events(4));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBeInstanceOf(SlowConsumerError);
    expect(sub.pending).toBe(2);
    expect(counters.slowConsumers).toBe(1);
    expect(detached).toEqual([sub]);
    sub.resume();
    deliver(sub, events(1));
    expect(seqs()).toEqual([0]);
    expect(ends).toHaveLength(1);
    expect(await sub.closed).toBe(ends[0]);
  });

  it("the bus closing ends the sink after what was buffered is handed over", () => {
    const { sub } = subscription({ bufferSize: 10 });
    const { sink, seqs, ends } = recorder((_, index) => index !== 0);
    sub.consume(sink);
    deliver(sub, events(3));
    sub.end();
    expect(ends).toEqual([]);
    sub.resume();
    expect(seqs()).toEqual([0, 1, 2]);
    expect(ends).toEqual([undefined]);
  });

  it("unsubscribe() ends the sink once and discards the buffer, even from inside deliver", () => {
    const { sub, detached } = subscription({ bufferSize: 10 });
    const { sink, seqs, ends } = recorder((_, index) => {
      if (index === 1) sub.unsubscribe();
      return index !== 0;
    });
    sub.consume(sink);
    deliver(sub, events(3));
    sub.resume();
    sub.unsubscribe();
    expect(seqs()).toEqual([0, 1]);
    expect(ends).toEqual([undefined]);
    expect(detached).toEqual([sub]);
    expect(sub.pending).toBe(0);
  });

  it("a failed confirmation ends the sink with the error; consuming an ended subscription ends at once", async () => {
    const failure = new SubscribeFailedError([CHANNEL]);
    const { sub } = subscription({ ready: Promise.reject(failure) });
    const first = recorder();
    sub.consume(first.sink);
    await expect(sub.ready).rejects.toBe(failure);
    expect(first.ends).toEqual([failure]);
    const { sub: ended } = subscription();
    deliver(ended, events(1));
    ended.end();
    const late = recorder();
    ended.consume(late.sink);
    expect(late.seqs()).toEqual([0]);
    expect(late.ends).toEqual([undefined]);
  });

  it("a sink that throws does not stop the receive path; the error is rethrown on a microtask", () => {
    const { sub } = subscription({ bufferSize: 10 });
    const failure = new Error("sink bug");
    const { sink, seqs } = recorder((_, index) => {
      if (index === 0) throw failure;
      return true;
    });
    const deferred: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, "queueMicrotask").mockImplementation((task) => {
      deferred.push(task);
    });
    try {
      sub.consume(sink);
      deliver(sub, events(2));
    } finally {
      spy.mockRestore();
    }
    expect(seqs()).toEqual([0, 1]);
    expect(deferred).toHaveLength(1);
    expect(() => deferred[0]?.()).toThrow(failure);
  });

  it("is consumed one way only", () => {
    const { sub } = subscription();
    sub.consume(recorder().sink);
    expect(() => sub.consume(recorder().sink)).toThrow(TypeError);
    const { sub: iterated } = subscription();
    void iterated.next();
    expect(() => iterated.consume(recorder().sink)).toThrow(TypeError);
  });
});
