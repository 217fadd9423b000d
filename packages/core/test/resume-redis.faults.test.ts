/**
 * Resume and live gaps on real redis-server processes, each asserting what a
 * subscriber sees: a killed subscriber connection backfilled with contiguous
 * offsets, history that expired while a consumer was away, a restart that
 * lost history (a new epoch, reported in sequence), and the chaos test: four
 * publishers, 50,000 events and ten kills, with history and without.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type ConnectionEvent,
  type CreateEventBusOptions,
  createEventBus,
  type Delivery,
  type EventBus,
  parsePosition,
} from "../src/index.js";
import { sampleEvent, waitFor, within } from "./helpers.js";
import { FAST_REDIS, useRedisServer } from "./redis-helpers.js";

const offsetOf = (position: string | undefined): number =>
  parsePosition(position ?? "missing").offset;

/** Publishes `total` events to `channel` from every publisher at once, counting them in `progress`. */
async function publishConcurrently(
  publishers: readonly EventBus[],
  channel: string,
  projectId: string,
  total: number,
  progress: { published: number },
  record?: (id: string, startedAt: number, endedAt: number) => void,
): Promise<void> {
  let issued = 0;
  await Promise.all(
    publishers.map(async (publisher) => {
      while (issued < total) {
        issued++;
        const event = sampleEvent(projectId);
        const startedAt = performance.now();
        await publisher.publish(channel, event);
        record?.(event.id, startedAt, performance.now());
        progress.published++;
      }
    }),
  );
}

/** Collects every delivery of `items` until `done` holds for one. */
async function collect(
  items: AsyncIterator<Delivery>,
  done: (delivery: Delivery) => boolean,
  timeoutMs: number,
): Promise<Delivery[]> {
  const seen: Delivery[] = [];
  const read = async (): Promise<Delivery[]> => {
    for (;;) {
      const result = await items.next();
      if (result.done) throw new Error(`deliveries ended after ${seen.length}`);
      seen.push(result.value);
      if (done(result.value)) return seen;
    }
  };
  return within(read(), timeoutMs, "deliveries");
}

const eventOffsets = (deliveries: readonly Delivery[]): number[] =>
  deliveries.flatMap((item) => (item.kind === "event" ? [offsetOf(item.position)] : []));

const oneToN = (n: number): number[] => Array.from({ length: n }, (_, index) => index + 1);

describe("resume faults - one server", () => {
  const redis = useRedisServer();
  const newBus = (options: CreateEventBusOptions = {}): EventBus =>
    redis.track(createEventBus(redis.server.url, { redis: FAST_REDIS, ...options }));
  const killSubscribers = () => redis.raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);

  it("resume faults - the subscriber connection killed under publishing load: backfilled, every offset once, in order", async () => {
    const subscriber = newBus({ history: true });
    const publishers = [newBus({ history: true }), newBus({ history: true })];
    const projectId = randomUUID();
    const channel = subscriber.getProjectChannel(projectId);
    const sub = subscriber.subscribe([channel], { bufferSize: 10_000 });
    await sub.recovery;
    const items = sub.deliveries();
    const total = 2_000;
    const progress = { published: 0 };
    const publishing = publishConcurrently(publishers, channel, projectId, total, progress);
    await waitFor(() => progress.published >= 500, { timeoutMs: 30_000, message: "500 published" });
    expect(await killSubscribers()).toBeGreaterThanOrEqual(1);
    await publishing;
    const seen = await collect(
      items,
      (item) => item.kind === "event" && offsetOf(item.position) === total,
      30_000,
    );
    expect(seen.filter((item) => item.kind === "gap")).toEqual([]);
    expect(eventOffsets(seen)).toEqual(oneToN(total));
    expect(subscriber.stats()).toMatchObject({ disconnects: 1, gaps: 0 });
    expect(subscriber.stats().backfills).toBeGreaterThanOrEqual(1);
  });

  it("resume faults - the events expired while the consumer was away: the resume says expired, then live", async () => {
    const bus = newBus({ history: { ttlMs: 300, metaTtlMs: 60_000 } });
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const first = await bus.publish(channel, sampleEvent(projectId));
    await bus.publish(channel, sampleEvent(projectId));
    await waitFor(async () => (await bus.history(channel)).events.length === 0, {
      message: "the events to expire",
    });
    const sub = bus.subscribe([channel], { since: first as string });
    const recovery = (await sub.recovery).get(channel);
    expect(recovery).toMatchObject({ complete: false, gap: "expired", replayed: 0 });
    expect(offsetOf(recovery?.position)).toBe(2);
    const live = sampleEvent(projectId);
    const position = await bus.publish(channel, live);
    expect(offsetOf(position)).toBe(3);
    const seen = await collect(sub.deliveries(), (item) => item.kind === "event", 5_000);
    expect(seen.map((item) => item.kind)).toEqual(["gap", "start", "event"]);
  });
});

describe("resume faults - a restart that loses history", () => {
  const redis = useRedisServer();

  it("resume faults - Redis restarted without persistence: a foreign-epoch gap in sequence, then live in the new epoch", async () => {
    const subscriber = redis.track(
      createEventBus(redis.server.url, { redis: FAST_REDIS, history: true }),
    );
    const publisher = redis.track(
      createEventBus(redis.server.url, { redis: FAST_REDIS, history: true }),
    );
    const projectId = randomUUID();
    const channel = subscriber.getProjectChannel(projectId);
    const sub = subscriber.subscribe([channel]);
    await sub.recovery;
    const items = sub.deliveries();
    const before = await publisher.publish(channel, sampleEvent(projectId));
    await collect(items, (item) => item.kind === "event", 5_000);
    await redis.server.restart();
    await waitFor(() => subscriber.stats().gaps === 1, {
      timeoutMs: 15_000,
      message: "the gap to be reported",
    });
    const after = sampleEvent(projectId);
    const position = await within(
      (async () => {
        for (;;) {
          try {
            return await publisher.publish(channel, after);
          } catch {
            // The publisher's connection is coming back; retrying is safe (idempotent).
          }
        }
      })(),
      15_000,
      "a publish after the restart",
    );
    const seen = await collect(items, (item) => item.kind === "event", 5_000);
    expect(seen).toEqual([
      {
        kind: "gap",
        channel,
        reason: "foreign-epoch",
        after: before,
        resumeFrom: expect.any(String),
      },
      { kind: "event", channel, event: after, position },
    ]);
    expect(parsePosition(position ?? "").epoch).not.toBe(parsePosition(before ?? "").epoch);
  });
});

describe("resume chaos - four publishers, 50,000 events, the subscriber's connection killed ten times", () => {
  const redis = useRedisServer();
  const total = 50_000;
  const kills = 10;

  /** Runs the chaos: publishes while killing the subscriber connection; answers what `sub` saw. */
  async function chaos(options: CreateEventBusOptions) {
    const bus = (): EventBus =>
      redis.track(createEventBus(redis.server.url, { redis: FAST_REDIS, ...options }));
    const subscriber = bus();
    const publishers = [bus(), bus(), bus(), bus()];
    const connection: { readonly event: ConnectionEvent; readonly at: number }[] = [];
    subscriber.on("connection", (event) => connection.push({ event, at: performance.now() }));
    const projectId = randomUUID();
    const channel = subscriber.getProjectChannel(projectId);
    const sub = subscriber.subscribe([channel], { bufferSize: total + 100 });
    await sub.ready;
    await sub.recovery;
    const published = new Map<string, { startedAt: number; endedAt: number }>();
    const progress = { published: 0 };
    const publishing = publishConcurrently(
      publishers,
      channel,
      projectId,
      total,
      progress,
      (id, startedAt, endedAt) => published.set(id, { startedAt, endedAt }),
    );
    const killedAt: number[] = [];
    for (let kill = 1; kill <= kills; kill++) {
      await waitFor(() => progress.published >= (kill * total) / (kills + 1), {
        timeoutMs: 60_000,
        message: `${kill} elevenths published`,
      });
      killedAt.push(performance.now());
      await redis.raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      await waitFor(() => subscriber.stats().reconnects >= kill, {
        timeoutMs: 15_000,
        message: `reconnect ${kill}`,
      });
    }
    await publishing;
    return { subscriber, sub, channel, projectId, published, connection, killedAt };
  }

  it("chaos - with history: every offset 1..50,000 exactly once, in order, and no gap", async () => {
    const { subscriber, sub } = await chaos({
      history: { maxEntries: total, idempotencyWindow: 0 },
    });
    const seen = await collect(
      sub.deliveries(),
      (item) => item.kind === "event" && offsetOf(item.position) === total,
      60_000,
    );
    expect(seen.filter((item) => item.kind === "gap")).toEqual([]);
    const offsets = eventOffsets(seen);
    expect(offsets.length).toBe(total);
    expect(offsets).toEqual(oneToN(total));
    expect(subscriber.stats()).toMatchObject({ disconnects: kills, reconnects: kills, gaps: 0 });
    expect(subscriber.stats().backfills).toBeGreaterThanOrEqual(1);
  });

  it("chaos - without history: every lost event was published during a reported disconnection", async () => {
    const { subscriber, sub, channel, projectId, published, connection, killedAt } = await chaos(
      {},
    );
    // A sentinel published after the chaos marks the end of what can still arrive.
    const sentinel = sampleEvent(projectId);
    await subscriber.publish(channel, sentinel);
    const received = new Set<string>();
    await within(
      (async () => {
        for await (const event of sub) {
          if (event.id === sentinel.id) return;
          received.add(event.id);
        }
      })(),
      60_000,
      "the sentinel",
    );
    expect(subscriber.stats()).toMatchObject({ disconnects: kills, reconnects: kills });
    expect(subscriber.stats().downtimeMs).toBeGreaterThan(0);
    const reconnectedAt = connection
      .filter(({ event }) => event.state === "reconnected")
      .map(({ at }) => at);
    expect(reconnectedAt.length).toBe(kills);
    // A lost event's publish overlapped a window from a kill to the reconnect that ended it.
    const inAWindow = ({ startedAt, endedAt }: { startedAt: number; endedAt: number }): boolean =>
      killedAt.some(
        (killed, index) => endedAt >= killed && startedAt <= (reconnectedAt[index] as number),
      );
    const lost = [...published].filter(([id]) => !received.has(id));
    expect(lost.filter(([, times]) => !inAWindow(times))).toEqual([]);
    expect(received.size + lost.length).toBe(total);
  });
});
