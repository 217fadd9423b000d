/**
 * History through the bus (`publish` positions, `history`, `positionOf`),
 * written once and run on every transport, like `conformance.ts`.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type EventBus,
  HistoryDisabledError,
  InvalidPositionError,
  parsePosition,
} from "../src/index.js";
import { type ConformanceFixture, useFixture } from "./conformance.js";
import { sampleEvent, take } from "./helpers.js";
import { offsetOf, publishAll } from "./history-helpers.js";

/** Registers the bus-level history suite for one transport. */
export function describeBusHistoryConformance(
  transportName: string,
  setup: () => Promise<ConformanceFixture>,
): void {
  describe(`bus history (${transportName})`, () => {
    const { newBus } = useFixture(setup);
    const project = (bus: EventBus): { channel: string; projectId: string } => {
      const projectId = randomUUID();
      return { channel: bus.getProjectChannel(projectId), projectId };
    };

    it("publish resolves to the event's position, offsets 1, 2, 3 in one epoch", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const events = Array.from({ length: 3 }, () => sampleEvent(projectId));
      const parsed = (await publishAll(bus, channel, events)).map(parsePosition);
      expect(parsed.map((position) => position.offset)).toEqual([1, 2, 3]);
      expect(new Set(parsed.map((position) => position.epoch)).size).toBe(1);
      expect(parsed.every((position) => position.fingerprint !== undefined)).toBe(true);
    });

    it("publish without history resolves to undefined and history() is refused", async () => {
      const bus = newBus();
      const { channel, projectId } = project(bus);
      await expect(bus.publish(channel, sampleEvent(projectId))).resolves.toBeUndefined();
      await expect(bus.history(channel)).rejects.toBeInstanceOf(HistoryDisabledError);
    });

    it("a subscriber receives each event with the position publish answered", async () => {
      const publisher = newBus({ history: true });
      const subscriber = newBus({ history: true });
      const { channel, projectId } = project(publisher);
      const sub = subscriber.subscribe([channel]);
      await sub.ready;
      const events = [sampleEvent(projectId), sampleEvent(projectId)];
      const positions = await publishAll(publisher, channel, events);
      const received = await take(sub, 2);
      expect(received).toEqual(events);
      expect(received.map((event) => subscriber.positionOf(event))).toEqual(positions);
    });

    it("a bus without history still receives events published with history, without positions", async () => {
      const publisher = newBus({ history: true });
      const plain = newBus();
      const { channel, projectId } = project(publisher);
      const sub = plain.subscribe([channel]);
      await sub.ready;
      const event = sampleEvent(projectId);
      await publisher.publish(channel, event);
      const [received] = await take(sub, 1);
      expect(received).toEqual(event);
      expect(plain.positionOf(received as typeof event)).toBeUndefined();
    });

    it("publishing the same event id twice appends and delivers it once, answering the first position", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const sub = bus.subscribe([channel]);
      await sub.ready;
      const event = sampleEvent(projectId);
      const first = await bus.publish(channel, event);
      const retry = await bus.publish(channel, event);
      const sentinel = sampleEvent(projectId);
      const next = await bus.publish(channel, sentinel);
      expect(retry).toBe(first);
      expect(offsetOf(next)).toBe(offsetOf(first) + 1);
      expect(await take(sub, 2)).toEqual([event, sentinel]);
      const page = await bus.history(channel);
      expect(page.events.map((entry) => entry.event)).toEqual([event, sentinel]);
      expect(bus.stats().published).toBe(2);
    });

    it("history() answers the latest events with their positions and the current position", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const events = [sampleEvent(projectId), sampleEvent(projectId), sampleEvent(projectId)];
      const positions = await publishAll(bus, channel, events);
      const page = await bus.history(channel);
      expect(page.complete).toBe(true);
      expect(page.more).toBe(false);
      expect(page.events).toEqual(
        events.map((event, index) => ({ event, position: positions[index] })),
      );
      expect(parsePosition(page.current)).toEqual({
        epoch: parsePosition(positions[0] ?? "").epoch,
        offset: 3,
      });
      const latest = await bus.history(channel, { limit: 2 });
      expect(latest.events.map((entry) => entry.event)).toEqual(events.slice(1));
    });

    it("history({ since }) answers what followed, page by page with `more`", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const events = Array.from({ length: 5 }, () => sampleEvent(projectId));
      const positions = await publishAll(bus, channel, events);
      const first = await bus.history(channel, { since: positions[0] ?? "", limit: 2 });
      expect(first.complete).toBe(true);
      expect(first.more).toBe(true);
      expect(first.events.map((entry) => entry.event)).toEqual(events.slice(1, 3));
      const second = await bus.history(channel, { since: first.events.at(-1)?.position ?? "" });
      expect(second.more).toBe(false);
      expect(second.events.map((entry) => entry.event)).toEqual(events.slice(3));
      const atTop = await bus.history(channel, { since: positions[4] ?? "" });
      expect(atTop).toMatchObject({ complete: true, events: [], more: false });
    });

    it("an empty channel's current position resumes completely once events arrive", async () => {
      const bus = newBus({ history: true });
      const { channel, projectId } = project(bus);
      const empty = await bus.history(channel);
      expect(empty).toMatchObject({ complete: true, events: [] });
      expect(parsePosition(empty.current).offset).toBe(0);
      const event = sampleEvent(projectId);
      await bus.publish(channel, event);
      const page = await bus.history(channel, { since: empty.current });
      expect(page.complete).toBe(true);
      expect(page.events.map((entry) => entry.event)).toEqual([event]);
    });

    it("a resume from trimmed history is not complete: the retained rest, the gap and the current position", async () => {
      const bus = newBus({ history: { maxEntries: 3 } });
      const { channel, projectId } = project(bus);
      const events = Array.from({ length: 6 }, () => sampleEvent(projectId));
      const positions = await publishAll(bus, channel, events);
      const page = await bus.history(channel, { since: positions[0] ?? "" });
      expect(page.complete).toBe(false);
      expect(page.complete === false && page.gap).toBe("trimmed");
      expect(page.events.map((entry) => entry.event)).toEqual(events.slice(3));
      expect(offsetOf(page.current)).toBe(6);
    });

    it("a position of another channel is a foreign epoch, not an error; a malformed one is", async () => {
      const bus = newBus({ history: true });
      const a = project(bus);
      const b = project(bus);
      const foreign = await bus.publish(a.channel, sampleEvent(a.projectId));
      await bus.publish(b.channel, sampleEvent(b.projectId));
      const page = await bus.history(b.channel, { since: foreign ?? "" });
      expect(page).toMatchObject({ complete: false, gap: "foreign-epoch", events: [] });
      await expect(bus.history(b.channel, { since: "17" })).rejects.toBeInstanceOf(
        InvalidPositionError,
      );
    });
  });
}
