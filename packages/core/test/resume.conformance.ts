/**
 * Resuming subscriptions (`subscribe(channels, { since })`) and what they
 * report, written once and run on every transport with history.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type Delivery,
  type Event,
  type EventBus,
  HistoryDisabledError,
  InvalidPositionError,
  parsePosition,
} from "../src/index.js";
import { type ConformanceFixture, useFixture } from "./conformance.js";
import { sampleEvent, take, within } from "./helpers.js";

const offsetOf = (position: string | undefined): number =>
  parsePosition(position ?? "missing").offset;

/** Publishes `count` events in order; answers them and their positions. */
async function publishMany(
  bus: EventBus,
  channel: string,
  projectId: string,
  count: number,
): Promise<{ events: Event[]; positions: string[] }> {
  const events: Event[] = [];
  const positions: string[] = [];
  for (let index = 0; index < count; index++) {
    const event = sampleEvent(projectId);
    events.push(event);
    positions.push((await bus.publish(channel, event)) ?? "no position");
  }
  return { events, positions };
}

/** Reads deliveries until `done` says the last one read is the last wanted. */
async function deliveriesUntil(
  items: AsyncIterator<Delivery>,
  done: (delivery: Delivery) => boolean,
  timeoutMs = 10_000,
): Promise<Delivery[]> {
  const read = async (): Promise<Delivery[]> => {
    const seen: Delivery[] = [];
    for (;;) {
      const result = await items.next();
      if (result.done) throw new Error(`deliveries ended after ${seen.length}`);
      seen.push(result.value);
      if (done(result.value)) return seen;
    }
  };
  return within(read(), timeoutMs, "deliveries");
}

const eventsOf = (deliveries: readonly Delivery[]): Event[] =>
  deliveries.flatMap((delivery) => (delivery.kind === "event" ? [delivery.event] : []));

/** Registers the resume suite for one transport. */
export function describeResumeConformance(
  transportName: string,
  setup: () => Promise<ConformanceFixture>,
): void {
  describe(`resume (${transportName})`, () => {
    const { newBus } = useFixture(setup);
    const project = (bus: EventBus): { channel: string; projectId: string } => {
      const projectId = randomUUID();
      return { channel: bus.getProjectChannel(projectId), projectId };
    };

    it("resume - every event after since, in order and once, then the start, then live events", async () => {
      const publisher = newBus({ history: true });
      const subscriber = newBus({ history: true });
      const { channel, projectId } = project(publisher);
      const { events, positions } = await publishMany(publisher, channel, projectId, 5);
      const sub = subscriber.subscribe([channel], { since: positions[1] as string });
      const items = sub.deliveries();
      const replay = await deliveriesUntil(items, (item) => item.kind === "start");
      expect(eventsOf(replay)).toEqual(events.slice(2));
      expect(replay.flatMap((item) => (item.kind === "event" ? [item.position] : []))).toEqual(
        positions.slice(2),
      );
      expect(replay.at(-1)).toEqual({
        kind: "start",
        channel,
        recovery: { since: positions[1], position: positions[4], replayed: 3, complete: true },
      });
      const live = sampleEvent(projectId);
      const livePosition = await publisher.publish(channel, live);
      const [next] = await deliveriesUntil(items, () => true);
      expect(next).toEqual({ kind: "event", channel, event: live, position: livePosition });
      const recovery = await sub.recovery;
      expect(recovery.get(channel)).toMatchObject({ complete: true, replayed: 3 });
      expect(subscriber.stats()).toMatchObject({ resumes: 1, resumesIncomplete: 0, replayed: 3 });
    });

    it("resume - the subscription's own iterator yields the replayed and live events only", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const { events, positions } = await publishMany(bus, channel, projectId, 3);
      const sub = bus.subscribe([channel], { since: positions[0] as string });
      await sub.recovery;
      const live = sampleEvent(projectId);
      await bus.publish(channel, live);
      const received = await take(sub, 3);
      expect(received).toEqual([...events.slice(1), live]);
      expect(received.map((event) => bus.positionOf(event))).toEqual([
        ...positions.slice(1),
        expect.any(String),
      ]);
    });

    it("resume - while four publishers publish: every offset after since exactly once, strictly contiguous", async () => {
      const publishers = Array.from({ length: 4 }, () => newBus({ history: true }));
      const subscriber = newBus({ history: true });
      const { channel, projectId } = project(subscriber);
      const { positions } = await publishMany(publishers[0] as EventBus, channel, projectId, 20);
      const total = 400;
      let published = 20;
      const publishing = Promise.all(
        publishers.map(async (publisher) => {
          while (published < total) {
            published++;
            await publisher.publish(channel, sampleEvent(projectId));
          }
        }),
      );
      const since = positions[9] as string;
      const sub = subscriber.subscribe([channel], { since, bufferSize: 1_000 });
      const items = sub.deliveries();
      await publishing;
      const seen = await deliveriesUntil(
        items,
        (item) => item.kind === "event" && offsetOf(item.position) === total,
      );
      const offsets = seen.flatMap((item) =>
        item.kind === "event" ? [offsetOf(item.position)] : [],
      );
      expect(offsets).toEqual(Array.from({ length: total - 10 }, (_, index) => index + 11));
      expect(seen.filter((item) => item.kind === "gap")).toEqual([]);
    });

    it("resume - trimmed history: a gap in sequence, then the start with the current position, then live", async () => {
      const bus = newBus({ history: { maxEntries: 3 } });
      const { channel, projectId } = project(bus);
      const { positions } = await publishMany(bus, channel, projectId, 6);
      const sub = bus.subscribe([channel], { since: positions[0] as string });
      const items = sub.deliveries();
      const start = await deliveriesUntil(items, (item) => item.kind === "start");
      expect(start).toEqual([
        {
          kind: "gap",
          channel,
          reason: "trimmed",
          after: positions[0],
          resumeFrom: (await bus.history(channel)).current,
        },
        {
          kind: "start",
          channel,
          recovery: {
            since: positions[0],
            position: expect.any(String),
            replayed: 0,
            complete: false,
            gap: "trimmed",
          },
        },
      ]);
      const live = sampleEvent(projectId);
      await bus.publish(channel, live);
      expect(eventsOf(await deliveriesUntil(items, () => true))).toEqual([live]);
      expect(bus.stats()).toMatchObject({ resumes: 0, resumesIncomplete: 1 });
    });

    it("resume - more missed events than replayLimit: nothing replayed, reported as replay-limit", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const { positions } = await publishMany(bus, channel, projectId, 6);
      const sub = bus.subscribe([channel], { since: positions[0] as string, replayLimit: 4 });
      const recovery = (await sub.recovery).get(channel);
      expect(recovery).toMatchObject({ complete: false, gap: "replay-limit", replayed: 0 });
      expect(offsetOf(recovery?.position)).toBe(6);
      const notes = await deliveriesUntil(sub.deliveries(), (item) => item.kind === "start");
      expect(notes.map((item) => item.kind)).toEqual(["gap", "start"]);
    });

    it("resume - another channel's position is a foreign epoch; a malformed one is refused at once", async () => {
      const bus = newBus({ history: true });
      const a = project(bus);
      const b = project(bus);
      const [foreign] = (await publishMany(bus, a.channel, a.projectId, 1)).positions;
      await publishMany(bus, b.channel, b.projectId, 1);
      const sub = bus.subscribe([b.channel], { since: foreign as string });
      expect((await sub.recovery).get(b.channel)).toMatchObject({
        complete: false,
        gap: "foreign-epoch",
      });
      expect(() => bus.subscribe([b.channel], { since: "17" })).toThrow(InvalidPositionError);
    });

    it("resume - since maps each channel to its position; the others start at their current position", async () => {
      const bus = newBus({ history: true });
      const a = project(bus);
      const b = project(bus);
      const { events, positions } = await publishMany(bus, a.channel, a.projectId, 3);
      await publishMany(bus, b.channel, b.projectId, 2);
      const sub = bus.subscribe([a.channel, b.channel], {
        since: { [a.channel]: positions[0] as string },
      });
      const recovery = await sub.recovery;
      expect(recovery.get(a.channel)).toMatchObject({ complete: true, replayed: 2 });
      expect(recovery.get(b.channel)).toMatchObject({ since: undefined, replayed: 0 });
      expect(offsetOf(recovery.get(b.channel)?.position)).toBe(2);
      expect(await take(sub, 2)).toEqual(events.slice(1));
    });

    it("resume - since is refused without history, for several channels as one string, and for a channel not subscribed", async () => {
      const plain = newBus();
      const bus = newBus({ history: true });
      const a = project(bus);
      const b = project(bus);
      const [position] = (await publishMany(bus, a.channel, a.projectId, 1)).positions;
      expect(() => plain.subscribe([a.channel], { since: position as string })).toThrow(
        HistoryDisabledError,
      );
      expect(() => bus.subscribe([a.channel, b.channel], { since: position as string })).toThrow(
        TypeError,
      );
      expect(() =>
        bus.subscribe([b.channel], { since: { [a.channel]: position as string } }),
      ).toThrow(TypeError);
    });

    it("resume - a subscription without since reports each channel's current position; without history, none", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const { positions } = await publishMany(bus, channel, projectId, 2);
      const first = bus.subscribe([channel]);
      expect((await first.recovery).get(channel)).toMatchObject({ complete: true, replayed: 0 });
      expect(offsetOf((await first.recovery).get(channel)?.position)).toBe(2);
      // A second one joins a channel whose feed is live: it starts at once, at the same place.
      const second = bus.subscribe([channel]);
      expect(offsetOf((await second.recovery).get(channel)?.position)).toBe(offsetOf(positions[1]));
      const plain = newBus();
      const unpositioned = plain.subscribe([channel]);
      expect((await unpositioned.recovery).size).toBe(0);
    });
  });
}
