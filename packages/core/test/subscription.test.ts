import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SlowConsumerError, SubscribeFailedError } from "../src/index.js";
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
}

function subscription({ bufferSize = 3, overflow = "error", ready, signal }: Setup = {}) {
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
      positionOf: () => undefined,
      history: false,
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
