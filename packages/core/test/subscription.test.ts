import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SlowConsumerError, SubscribeFailedError } from "../src/index.js";
import {
  type DeliveryCounters,
  EventSubscription,
  type OverflowPolicy,
} from "../src/subscription.js";
import { sampleEvent, within } from "./helpers.js";

function subscription(bufferSize = 3, overflow: OverflowPolicy = "error") {
  const counters: DeliveryCounters = { delivered: 0, dropped: 0, slowConsumers: 0 };
  const detached: EventSubscription[] = [];
  const sub = new EventSubscription(["events:project:x"], {
    bufferSize,
    overflow,
    counters,
    detach: (s) => detached.push(s),
  });
  return { sub, counters, detached };
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
    sub.deliver(first as never);
    expect(await waiting).toEqual({ done: false, value: first });
    sub.deliver(second as never);
    expect(sub.pending).toBe(1);
    expect(await sub.next()).toEqual({ done: false, value: second });
    expect(counters.delivered).toBe(2);
  });

  it("resolves concurrent next() calls in order", async () => {
    const { sub } = subscription();
    const sent = events(3);
    const waiting = [sub.next(), sub.next(), sub.next()];
    for (const event of sent) sub.deliver(event);
    expect((await Promise.all(waiting)).map((result) => result.value)).toEqual(sent);
  });
});

describe("subscription - overflow", () => {
  it("error: yields the buffered events, then throws SlowConsumerError once, then is done", async () => {
    const { sub, counters, detached } = subscription(2, "error");
    const sent = events(3);
    for (const event of sent) sub.deliver(event);
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
      const { sub, counters } = subscription(2, overflow);
      for (const event of events(4)) sub.deliver(event);
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
    sub.deliver(events(1)[0] as never);
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
    sub.deliver(event as never);
    sub.end();
    sub.deliver(events(1)[0] as never);
    expect(await sub.next()).toEqual({ done: false, value: event });
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it("a failed confirmation rejects ready and ends the iterator with the same error", async () => {
    const { sub, detached } = subscription();
    const failure = new SubscribeFailedError(["events:project:x"]);
    const waiting = sub.next();
    sub.track(Promise.reject(failure));
    await expect(sub.ready).rejects.toBe(failure);
    await expect(within(waiting)).rejects.toBe(failure);
    expect(detached).toEqual([sub]);
    expect(await sub.closed).toBe(failure);
  });

  it("an abort ends the subscription and removes its listener", async () => {
    const { sub, detached } = subscription();
    const controller = new AbortController();
    sub.watch(controller.signal);
    const waiting = sub.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(detached).toEqual([sub]);
  });

  it("for await leaves through return(), which unsubscribes", async () => {
    const { sub, detached } = subscription();
    for (const event of events(2)) sub.deliver(event);
    for await (const _ of sub) break;
    expect(detached).toEqual([sub]);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });
});
