/**
 * The transport conformance suite: every behaviour a user of the bus can
 * observe, written once and run against every transport, so switching from
 * memory to Redis changes nothing but reach. Each test names the DESIGN.md
 * guarantee it pins.
 */
import { randomUUID } from "node:crypto";
import { nestedText } from "@eventbus/test-fuzz";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ACTOR_TYPES,
  BusClosedError,
  ChannelMismatchError,
  type CreateEventBusOptions,
  EVENT_TYPES,
  type EventBus,
  EventTooLargeError,
  encodeEvent,
  InvalidChannelError,
  MAX_PAYLOAD_DEPTH,
  type MalformedMessageError,
  SlowConsumerError,
  ValidationError,
} from "../src/index.js";
import { sampleEvent, take, waitFor, within } from "./helpers.js";

/** What a transport provides to the suite: buses on one shared server, and a raw publisher. */
export interface ConformanceFixture {
  /** A new bus on the fixture's server; the suite closes it. */
  newBus(options?: CreateEventBusOptions): EventBus;
  /** Puts `data` on `channel` as-is, bypassing the bus's validation (for malformed messages). */
  publishRaw(channel: string, data: string): Promise<void>;
  /** How many server-side subscriptions `channel` has (Redis's `PUBSUB NUMSUB`). */
  serverSubscriptions(channel: string): Promise<number>;
  /** Releases the server. */
  cleanup(): Promise<void>;
}

/**
 * Registers the hooks of a suite on a fixture: set up before its tests,
 * released after them, and each test's buses closed after it. Answers the
 * fixture (once set up) and a maker of buses the hooks close.
 */
export function useFixture(setup: () => Promise<ConformanceFixture>): {
  readonly fixture: () => ConformanceFixture;
  readonly newBus: (options?: CreateEventBusOptions) => EventBus;
} {
  let fixture: ConformanceFixture | undefined;
  const current = (): ConformanceFixture => {
    if (fixture === undefined) throw new Error("the fixture is not set up yet");
    return fixture;
  };
  const buses: EventBus[] = [];
  beforeAll(async () => {
    fixture = await setup();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });
  return {
    fixture: current,
    newBus: (options) => {
      const bus = current().newBus(options);
      buses.push(bus);
      return bus;
    },
  };
}

/** Registers the conformance suite for one transport. */
export function describeTransportConformance(
  transportName: string,
  setup: () => Promise<ConformanceFixture>,
): void {
  describe(`conformance (${transportName})`, () => {
    const { fixture, newBus } = useFixture(setup);

    describe("publish and subscribe", () => {
      it("delivers a published event, equal field by field", async () => {
        const bus = newBus();
        const channel = bus.getProjectChannel(randomUUID());
        const projectId = channel.split(":")[2] as string;
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const event = sampleEvent(projectId, {
          payload: { nested: { list: [1, "two", null, true] } },
        });
        await bus.publish(channel, event);
        const [received] = await take(sub, 1);
        expect(received).toEqual(event);
        expect(received?.timestamp).toBeInstanceOf(Date);
      });

      it("serialises every event type, actor type and a unicode payload unchanged", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const sent = EVENT_TYPES.map((type, index) =>
          sampleEvent(projectId, {
            type,
            actor_type: ACTOR_TYPES[index % 3] ?? "system",
            actor_id: index % 3 === 2 ? null : randomUUID(),
            payload: { index, text: "naïve – 日本語 🚀", quote: '"\\' },
          }),
        );
        for (const event of sent) await bus.publish(channel, event);
        expect(await take(sub, sent.length)).toEqual(sent);
      });

      it("delivers to every subscriber, on one bus and on another bus of the same server", async () => {
        const publisher = newBus();
        const other = newBus();
        const projectId = randomUUID();
        const channel = publisher.getProjectChannel(projectId);
        const subs = [
          publisher.subscribe([channel]),
          publisher.subscribe([channel]),
          other.subscribe([channel]),
        ];
        await Promise.all(subs.map((sub) => sub.ready));
        const event = sampleEvent(projectId);
        await publisher.publish(channel, event);
        for (const sub of subs) expect(await take(sub, 1)).toEqual([event]);
      });

      it("subscribes one subscription to several channels, project and agent", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const projectChannel = bus.getProjectChannel(projectId);
        const agentChannel = bus.getAgentChannel(randomUUID());
        const sub = bus.subscribe([projectChannel, agentChannel]);
        await sub.ready;
        const first = sampleEvent(projectId);
        const second = sampleEvent(randomUUID());
        await bus.publish(projectChannel, first);
        await bus.publish(agentChannel, second);
        // Order is promised per channel only: on a cluster two channels may live on two masters.
        const received = await take(sub, 2);
        expect(received).toHaveLength(2);
        expect(received).toEqual(expect.arrayContaining([first, second]));
      });
    });

    describe("guarantee 1: isolation", () => {
      it("a subscriber of project A never receives project B's events", async () => {
        const bus = newBus();
        const [projectA, projectB] = [randomUUID(), randomUUID()];
        const channelA = bus.getProjectChannel(projectA);
        const channelB = bus.getProjectChannel(projectB);
        const subA = bus.subscribe([channelA]);
        const subB = bus.subscribe([channelB]);
        await Promise.all([subA.ready, subB.ready]);
        const eventsB = [sampleEvent(projectB), sampleEvent(projectB)];
        for (const event of eventsB) await bus.publish(channelB, event);
        const sentinel = sampleEvent(projectA);
        await bus.publish(channelA, sentinel);
        // B's events were published first, on the same connection: had A been sent them, they would come first.
        expect(await take(subA, 1)).toEqual([sentinel]);
        expect(subA.pending).toBe(0);
        expect(await take(subB, 2)).toEqual(eventsB);
      });

      it("agent channels are isolated from each other and from project channels", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const agentA = bus.getAgentChannel(randomUUID());
        const agentB = bus.getAgentChannel(randomUUID());
        const sub = bus.subscribe([agentA]);
        await sub.ready;
        await bus.publish(agentB, sampleEvent(projectId));
        await bus.publish(bus.getProjectChannel(projectId), sampleEvent(projectId));
        const sentinel = sampleEvent(projectId);
        await bus.publish(agentA, sentinel);
        expect(await take(sub, 1)).toEqual([sentinel]);
        expect(sub.pending).toBe(0);
      });

      it("refuses to publish an event to another project's channel, and sends nothing", async () => {
        const bus = newBus();
        const [projectA, projectB] = [randomUUID(), randomUUID()];
        const channelA = bus.getProjectChannel(projectA);
        const sub = bus.subscribe([channelA]);
        await sub.ready;
        await expect(bus.publish(channelA, sampleEvent(projectB))).rejects.toBeInstanceOf(
          ChannelMismatchError,
        );
        const sentinel = sampleEvent(projectA);
        await bus.publish(channelA, sentinel);
        expect(await take(sub, 1)).toEqual([sentinel]);
      });

      it("refuses channel names that are not a project or agent channel of the bus", async () => {
        const bus = newBus();
        const event = sampleEvent(randomUUID());
        for (const channel of [
          "events:project:*",
          "events:*",
          "other",
          `x:project:${event.project_id}`,
        ]) {
          await expect(bus.publish(channel, event)).rejects.toBeInstanceOf(InvalidChannelError);
          expect(() => bus.subscribe([channel])).toThrow(InvalidChannelError);
        }
        expect(() => bus.getProjectChannel("not-a-uuid")).toThrow(InvalidChannelError);
        expect(bus.stats().channels).toBe(0);
      });
    });

    describe("guarantee 2: ordering", () => {
      it("delivers events from one publisher to one channel in the order sent, to every subscriber", async () => {
        const publisher = newBus();
        const receiver = newBus();
        const projectId = randomUUID();
        const channel = publisher.getProjectChannel(projectId);
        const local = publisher.subscribe([channel]);
        const remote = receiver.subscribe([channel]);
        await Promise.all([local.ready, remote.ready]);
        const sent = Array.from({ length: 2_000 }, (_, seq) =>
          sampleEvent(projectId, { payload: { seq } }),
        );
        await Promise.all(sent.map((event) => publisher.publish(channel, event)));
        const seqs = (events: { payload: { seq?: unknown } }[]) =>
          events.map((event) => event.payload.seq);
        expect(seqs(await take(local, sent.length))).toEqual(seqs(sent));
        expect(seqs(await take(remote, sent.length))).toEqual(seqs(sent));
      });
    });

    describe("guarantee 3: no race at start", () => {
      it("after ready, the first event published by another bus arrives", async () => {
        const receiver = newBus();
        const publisher = newBus();
        const projectId = randomUUID();
        const channel = receiver.getProjectChannel(projectId);
        for (let round = 0; round < 20; round++) {
          const sub = receiver.subscribe([channel]);
          await sub.ready;
          const event = sampleEvent(projectId, { payload: { round } });
          await publisher.publish(channel, event);
          expect(await take(sub, 1)).toEqual([event]);
          await sub.return();
        }
      });

      it("a subscriber joining a channel already subscribed shares its subscription and is ready", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const first = bus.subscribe([channel]);
        const second = bus.subscribe([channel]);
        await Promise.all([first.ready, second.ready]);
        expect(await fixture().serverSubscriptions(channel)).toBe(1);
        const event = sampleEvent(projectId);
        await bus.publish(channel, event);
        expect(await take(second, 1)).toEqual([event]);
      });
    });

    describe("guarantee 4: validated both ways", () => {
      it("refuses an invalid event with the fields that are wrong, and publishes nothing", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const invalid = { ...sampleEvent(projectId), type: "issue.deleted", actor_type: "robot" };
        // @ts-expect-error -- an invalid event, as untyped callers could send
        const error = await bus.publish(channel, invalid).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
          ["type"],
          ["actor_type"],
        ]);
        const sentinel = sampleEvent(projectId);
        await bus.publish(channel, sentinel);
        expect(await take(sub, 1)).toEqual([sentinel]);
        expect(bus.stats().published).toBe(1);
      });

      it("refuses an event over maxEventBytes before sending it", async () => {
        const bus = newBus({ maxEventBytes: 2_048 });
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const big = sampleEvent(projectId, { payload: { text: "é".repeat(1_000) } });
        const error = await bus.publish(channel, big).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(EventTooLargeError);
        expect((error as EventTooLargeError).bytes).toBeGreaterThan(2_048);
        expect(bus.stats().published).toBe(0);
      });

      it("carries any text exactly, small or large: accents, astral characters, escapes, lone surrogates", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const texts = [
          "é",
          "😀 ok",
          '"\\\n\t\u0000',
          "\u2028\u2029",
          "\ud800 alone",
          "ü".repeat(20_000),
        ];
        const events = texts.map((text) => sampleEvent(projectId, { payload: { text } }));
        await Promise.all(events.map((event) => bus.publish(channel, event)));
        expect(await take(sub, events.length)).toEqual(events);
      });

      it("skips, counts and reports malformed messages, and goes on delivering", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const reports: MalformedMessageError[] = [];
        bus.on("malformed", (error) => reports.push(error));
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const valid = sampleEvent(projectId);
        const wire = JSON.parse(
          JSON.stringify({ ...valid, timestamp: valid.timestamp.toISOString() }),
        );
        const malformed = [
          "not json {",
          JSON.stringify([1, 2]),
          JSON.stringify({ ...wire, type: "issue.deleted" }),
          JSON.stringify({ ...wire, timestamp: "yesterday" }),
          JSON.stringify({ ...wire, project_id: randomUUID() }),
          // Deeper than the bound: 100 levels (zod alone would accept it), 100,000 (zod alone would overflow).
          JSON.stringify({ ...wire, payload: {} }).replace(
            '"payload":{}',
            `"payload":${nestedText(100, "1", "object")}`,
          ),
          JSON.stringify({ ...wire, payload: {} }).replace(
            '"payload":{}',
            `"payload":${nestedText(100_000, "1", "object")}`,
          ),
        ];
        for (const data of malformed) await fixture().publishRaw(channel, data);
        await bus.publish(channel, valid);
        expect(await take(sub, 1)).toEqual([valid]);
        expect(reports.map((report) => report.reason)).toEqual([
          "json",
          "schema",
          "schema",
          "schema",
          "channel-mismatch",
          "schema",
          "schema",
        ]);
        expect(reports.at(-1)?.message).toContain(
          `payload: must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`,
        );
        expect(
          reports.every(
            (report) => report.channel === channel && report.code === "EVENTBUS_MALFORMED_MESSAGE",
          ),
        ).toBe(true);
        expect(bus.stats().malformed).toBe(malformed.length);
      });
    });

    describe("prototype keys are data", () => {
      it("delivers a payload's __proto__ and constructor.prototype keys as data, whoever published it", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const sub = bus.subscribe([channel]);
        await sub.ready;
        const payloadText =
          '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":true}}}';
        const sent = sampleEvent(projectId, { payload: JSON.parse(payloadText) });
        await bus.publish(channel, sent);
        await fixture().publishRaw(
          channel,
          encodeEvent(sampleEvent(projectId)).replace(
            /"payload":\{.*\}\}$/,
            `"payload":${payloadText}}`,
          ),
        );
        for (const event of await take(sub, 2)) {
          expect(JSON.stringify(event.payload)).toBe(payloadText);
          expect(Object.getPrototypeOf(event.payload)).toBe(Object.prototype);
          expect((event.payload as { isAdmin?: unknown }).isAdmin).toBeUndefined();
        }
        expect(bus.stats().malformed).toBe(0);
      });
    });

    describe("guarantee 5: bounded memory", () => {
      async function fill(overflow: "error" | "drop-oldest" | "drop-newest") {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const sub = bus.subscribe([channel], { bufferSize: 3, overflow });
        const watcher = bus.subscribe([channel]);
        await Promise.all([sub.ready, watcher.ready]);
        const sent = Array.from({ length: 5 }, (_, seq) =>
          sampleEvent(projectId, { payload: { seq } }),
        );
        for (const event of sent) await bus.publish(channel, event);
        // The watcher reads everything, so by then `sub` has been offered all five.
        await take(watcher, sent.length);
        return { bus, sub, sent };
      }

      it("ends a subscriber that falls behind with SlowConsumerError after what it buffered", async () => {
        const { bus, sub, sent } = await fill("error");
        expect(await take(sub, 3)).toEqual(sent.slice(0, 3));
        await expect(sub.next()).rejects.toBeInstanceOf(SlowConsumerError);
        expect(await sub.next()).toEqual({ done: true, value: undefined });
        expect(await sub.closed).toBeInstanceOf(SlowConsumerError);
        expect(bus.stats().slowConsumers).toBe(1);
      });

      it("drop-oldest keeps the newest events and counts the dropped", async () => {
        const { bus, sub, sent } = await fill("drop-oldest");
        expect(await take(sub, 3)).toEqual(sent.slice(2));
        expect(sub.dropped).toBe(2);
        expect(bus.stats().dropped).toBe(2);
      });

      it("drop-newest keeps the oldest events and counts the dropped", async () => {
        const { sub, sent } = await fill("drop-newest");
        expect(await take(sub, 3)).toEqual(sent.slice(0, 3));
        expect(sub.dropped).toBe(2);
      });
    });

    describe("guarantee 6: one server subscription per channel", () => {
      it("subscribes a channel once for many local subscribers, unsubscribes when the last leaves", async () => {
        const bus = newBus();
        const channel = bus.getProjectChannel(randomUUID());
        const subs = Array.from({ length: 10 }, () => bus.subscribe([channel]));
        await Promise.all(subs.map((sub) => sub.ready));
        expect(await fixture().serverSubscriptions(channel)).toBe(1);
        for (const sub of subs.slice(1)) sub.unsubscribe();
        expect(await fixture().serverSubscriptions(channel)).toBe(1);
        subs[0]?.unsubscribe();
        await waitFor(async () => (await fixture().serverSubscriptions(channel)) === 0, {
          message: "the server subscription to go",
        });
        expect(bus.stats().channels).toBe(0);
      });
    });

    describe("leaving a subscription", () => {
      const ways = {
        break: async (sub: AsyncIterable<unknown>) => {
          for await (const _ of sub) break;
        },
        "return()": async (sub: { return(): Promise<unknown> }) => {
          await sub.return();
        },
        "unsubscribe()": async (sub: { unsubscribe(): void }) => {
          sub.unsubscribe();
        },
        "Symbol.asyncDispose": async (sub: AsyncDisposable) => {
          await using _disposed = sub;
        },
      } as const;

      for (const [way, leave] of Object.entries(ways)) {
        it(`${way} ends the iterator and unsubscribes at the server`, async () => {
          const bus = newBus();
          const projectId = randomUUID();
          const channel = bus.getProjectChannel(projectId);
          const sub = bus.subscribe([channel]);
          await sub.ready;
          if (way === "break") await bus.publish(channel, sampleEvent(projectId));
          await leave(sub as never);
          expect(await sub.next()).toEqual({ done: true, value: undefined });
          expect(await sub.closed).toBeUndefined();
          await waitFor(async () => (await fixture().serverSubscriptions(channel)) === 0, {
            message: "the server subscription to go",
          });
        });
      }

      it("an AbortSignal ends the iterator, including a pending next()", async () => {
        const bus = newBus();
        const channel = bus.getProjectChannel(randomUUID());
        const controller = new AbortController();
        const sub = bus.subscribe([channel], { signal: controller.signal });
        await sub.ready;
        const pending = sub.next();
        controller.abort();
        expect(await within(pending)).toEqual({ done: true, value: undefined });
        await waitFor(async () => (await fixture().serverSubscriptions(channel)) === 0);
        const aborted = bus.subscribe([channel], { signal: AbortSignal.abort() });
        expect(await aborted.next()).toEqual({ done: true, value: undefined });
      });
    });

    describe("guarantee 8: clean shutdown", () => {
      it("close() ends every iterator, refuses later use and is safe to call twice", async () => {
        const bus = newBus();
        const projectId = randomUUID();
        const channel = bus.getProjectChannel(projectId);
        const idle = bus.subscribe([channel]);
        const buffered = bus.subscribe([bus.getAgentChannel(randomUUID()), channel]);
        await Promise.all([idle.ready, buffered.ready]);
        const event = sampleEvent(projectId);
        await bus.publish(channel, event);
        await waitFor(() => buffered.pending === 1 && idle.pending === 1);
        const waiting = (async () => {
          await idle.next();
          return idle.next();
        })();
        await Promise.all([bus.close(), bus.close()]);
        expect(await within(waiting)).toEqual({ done: true, value: undefined });
        expect(await take(buffered, 1)).toEqual([event]);
        expect(await buffered.next()).toEqual({ done: true, value: undefined });
        await expect(bus.publish(channel, event)).rejects.toBeInstanceOf(BusClosedError);
        expect(() => bus.subscribe([channel])).toThrow(BusClosedError);
        await waitFor(async () => (await fixture().serverSubscriptions(channel)) === 0);
      });
    });
  });
}
