/**
 * The cluster transport on a real three-master, three-replica cluster, one
 * per file: channels spread over the shards, a master killed while four
 * publishers publish, a graceful failover, a slot migrated with its history
 * keys, a subscriber connection killed. Each test leaves the cluster healthy
 * (a killed node restarted) for the next.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { startRedisServer } from "@eventbus/test-redis";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConnectionEvent,
  ConnectionRejectedError,
  createEventBus,
  type Delivery,
  type Event,
  NotConnectedError,
  PublishFailedError,
  parsePosition,
} from "../src/index.js";
import { slotOf } from "../src/transports/cluster-topology.js";
import { sampleEvent, take, waitFor } from "./helpers.js";
import {
  channelPerMaster,
  connectionEvents,
  drain,
  ownerPort,
  shardSubscriptions,
  useRedisCluster,
} from "./redis-cluster-helpers.js";
import { FAST_REDIS } from "./redis-helpers.js";

/** Waits for a `reconnected` after the `seen`-th event, and answers it. */
async function nextReconnected(
  events: ConnectionEvent[],
  seen = 0,
  timeoutMs = 20_000,
): Promise<Extract<ConnectionEvent, { state: "reconnected" }>> {
  const find = () =>
    events.slice(seen).find((event) => event.state === "reconnected") as
      | Extract<ConnectionEvent, { state: "reconnected" }>
      | undefined;
  await waitFor(() => find() !== undefined, { timeoutMs, message: "a reconnected event" });
  return find() as Extract<ConnectionEvent, { state: "reconnected" }>;
}

const idsOf = (events: readonly Event[]): Set<string> => new Set(events.map((event) => event.id));

describe("redis cluster", () => {
  const { cluster: get, track } = (() => {
    const fixture = useRedisCluster();
    return { cluster: () => fixture.cluster, track: fixture.track };
  })();
  const newBus = (options: Parameters<typeof createEventBus>[1] = {}) =>
    track(createEventBus(get().url, { redis: FAST_REDIS, ...options }));

  it("cluster - our slot of any name is the server's", async () => {
    const names = fc.sample(fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), 200);
    for (const name of names)
      expect([name, slotOf(name)]).toEqual([name, await get().slotOf(name)]);
  });

  it("cluster - channels spread over all three masters, one subscriber connection each, one subscription per channel", async () => {
    const bus = newBus();
    const publisher = newBus();
    const projects = Array.from({ length: 30 }, () => randomUUID());
    const channels = projects.map((projectId) => bus.getProjectChannel(projectId));
    const sub = bus.subscribe(channels);
    await sub.ready;

    const owners = await Promise.all(channels.map((channel) => ownerPort(get(), channel)));
    expect(new Set(owners).size).toBe(3);
    for (const channel of channels) expect(await shardSubscriptions(get(), channel)).toBe(1);
    for (const port of new Set(owners)) {
      const held = owners.filter((owner) => owner === port).length;
      const list = String(await get().command(port, "CLIENT", "LIST"));
      const counts = [...list.matchAll(/ ssub=(\d+)/g)].map((match) => Number(match[1]));
      // The bus's subscriber holds its channels and its probe; the publisher bus's, its probe.
      expect(counts.filter((count) => count === held + 1)).toHaveLength(1);
    }

    const events = projects.map((projectId) => sampleEvent(projectId));
    await Promise.all(
      events.map((event, index) => publisher.publish(channels[index] ?? "", event)),
    );
    expect(idsOf(await take(sub, events.length))).toEqual(idsOf(events));
  });

  it("faults - a master SIGKILLed while four publishers publish: typed failures, its replica promoted, its channel resubscribed and reported", async () => {
    const subscriber = newBus();
    const publishers = Array.from({ length: 4 }, () => newBus());
    const placed = await channelPerMaster(get(), subscriber);
    const [victim, ...others] = placed;
    if (victim === undefined) throw new Error("no channel");
    const events = connectionEvents(subscriber);
    const sub = subscriber.subscribe(
      placed.map((entry) => entry.channel),
      { bufferSize: 1_000_000 },
    );
    await sub.ready;
    const received = drain(sub);

    interface Outcome {
      readonly channel: string;
      readonly id: string;
      readonly error: unknown;
      readonly afterRecovery: boolean;
    }
    const outcomes: Outcome[] = [];
    let recovered = false;
    let stop = false;
    const loops = publishers.map(async (bus, index) => {
      for (let round = index; !stop; round++) {
        const target = placed[round % placed.length] as (typeof placed)[number];
        const event = sampleEvent(target.projectId);
        const afterRecovery = recovered;
        let error: unknown;
        try {
          await bus.publish(target.channel, event);
        } catch (caught) {
          error = caught;
        }
        outcomes.push({ channel: target.channel, id: event.id, error, afterRecovery });
      }
    });
    const sent = (where: (outcome: Outcome) => boolean) =>
      outcomes.filter((outcome) => outcome.error === undefined && where(outcome));

    await waitFor(() => sent(() => true).length >= 50, { message: "publishing under way" });
    await get().kill(victim.port);
    const reconnected = await nextReconnected(events);
    recovered = true;
    await waitFor(
      () =>
        sent((outcome) => outcome.afterRecovery && outcome.channel === victim.channel).length >= 20,
      { timeoutMs: 10_000, message: "publishes to the promoted master" },
    );
    stop = true;
    await Promise.all(loops);

    // Every failure is typed: not sent (NotConnectedError) or maybe sent (PublishFailedError).
    for (const { error } of outcomes) {
      if (error !== undefined) {
        expect(error instanceof NotConnectedError || error instanceof PublishFailedError).toBe(
          true,
        );
      }
    }
    expect(events[0]?.state).toBe("disconnected");
    expect(reconnected.channels).toContain(victim.channel);
    for (const other of others) expect(reconnected.channels).not.toContain(other.channel);
    expect(await ownerPort(get(), victim.channel)).not.toBe(victim.port);

    // Nothing published after the recovery is lost; nothing at all on the masters that stayed.
    const expected = sent(
      (outcome) => outcome.afterRecovery || outcome.channel !== victim.channel,
    ).map((outcome) => outcome.id);
    await waitFor(
      () => {
        const ids = idsOf(received);
        return expected.every((id) => ids.has(id));
      },
      { timeoutMs: 10_000, message: "every event published outside the loss window" },
    );

    await get().restart(victim.port);
  });

  it("faults - a master SIGKILLed under four publishers, with history: offsets in order and once but across a reported gap, every missing one inside a gap, all the promoted master holds delivered", async () => {
    const subscriber = newBus({ history: true });
    const publishers = Array.from({ length: 4 }, () => newBus({ history: true }));
    const [victim] = await channelPerMaster(get(), subscriber);
    if (victim === undefined) throw new Error("no channel");
    const sub = subscriber.subscribe([victim.channel], { bufferSize: 1_000_000 });
    await sub.recovery;
    const seen: Delivery[] = [];
    void (async () => {
      for await (const item of sub.deliveries()) seen.push(item);
    })();
    let recovered = false;
    let stop = false;
    const afterRecovery: string[] = [];
    const loops = publishers.map(async (bus) => {
      while (!stop) {
        const event = sampleEvent(victim.projectId);
        const late = recovered;
        try {
          await bus.publish(victim.channel, event);
          if (late) afterRecovery.push(event.id);
        } catch (error) {
          expect(error instanceof NotConnectedError || error instanceof PublishFailedError).toBe(
            true,
          );
        }
      }
    });
    const delivered = () => seen.filter((item) => item.kind === "event").length;
    await waitFor(() => delivered() >= 50, { message: "publishing under way" });
    await get().kill(victim.port);
    await waitFor(() => subscriber.stats().reconnects >= 1, {
      timeoutMs: 20_000,
      message: "the subscriber to reconnect",
    });
    recovered = true;
    await waitFor(() => afterRecovery.length >= 40, {
      timeoutMs: 15_000,
      message: "publishes to the promoted master",
    });
    stop = true;
    await Promise.all(loops);
    const top = parsePosition((await subscriber.history(victim.channel)).current);
    const lastOffset = (): number => {
      const last = seen.findLast((item) => item.kind === "event");
      return last?.kind === "event" ? parsePosition(last.position ?? "").offset : 0;
    };
    await waitFor(() => lastOffset() === top.offset, {
      timeoutMs: 15_000,
      message: `delivery up to offset ${top.offset}`,
    });

    const offsets = seen.flatMap((item) =>
      item.kind === "event" ? [parsePosition(item.position ?? "").offset] : [],
    );
    // Strictly increasing, but for a gap: a promoted replica that lost writes reuses offsets.
    let previous = 0;
    for (const item of seen) {
      if (item.kind === "gap") previous = parsePosition(item.resumeFrom ?? `${top.epoch}.0`).offset;
      if (item.kind !== "event") continue;
      const offset = parsePosition(item.position ?? "").offset;
      expect(offset).toBeGreaterThan(previous);
      previous = offset;
    }
    const gaps = seen.flatMap((item) => (item.kind === "gap" ? [item] : []));
    const inGap = (offset: number): boolean =>
      gaps.some(
        (gap) =>
          offset > parsePosition(gap.after ?? `${top.epoch}.0`).offset &&
          offset <= parsePosition(gap.resumeFrom ?? `${top.epoch}.${top.offset}`).offset,
      );
    const first = offsets[0] as number;
    for (let offset = first; offset <= top.offset; offset++) {
      if (!offsets.includes(offset)) expect(inGap(offset), `offset ${offset}`).toBe(true);
    }
    const ids = new Set(seen.flatMap((item) => (item.kind === "event" ? [item.event.id] : [])));
    expect(afterRecovery.filter((id) => !ids.has(id))).toEqual([]);
    expect(subscriber.stats().backfills).toBeGreaterThanOrEqual(1);

    await get().restart(victim.port);
  });

  it("faults - a graceful CLUSTER FAILOVER: subscriptions move to the promoted replica, publishes follow, the channel is reported", async () => {
    const subscriber = newBus();
    const publisher = newBus();
    const [target] = await channelPerMaster(get(), subscriber);
    if (target === undefined) throw new Error("no channel");
    const events = connectionEvents(subscriber);
    const sub = subscriber.subscribe([target.channel]);
    await sub.ready;
    await publisher.publish(target.channel, sampleEvent(target.projectId));
    await take(sub, 1);

    const owner = (await get().nodes()).find((node) => node.port === target.port);
    const replica = (await get().nodes()).find((node) => node.masterId === owner?.id);
    if (replica === undefined) throw new Error("no replica");
    await get().failover(replica.port);
    const reconnected = await nextReconnected(events);
    expect(reconnected.channels).toEqual([target.channel]);
    expect(await ownerPort(get(), target.channel)).toBe(replica.port);
    expect(await shardSubscriptions(get(), target.channel)).toBe(1);

    // The publisher holds no subscription there: its probe told it the master was demoted.
    const after = [sampleEvent(target.projectId), sampleEvent(target.projectId)];
    for (const event of after) await publisher.publish(target.channel, event);
    expect(await take(sub, 2)).toEqual(after);
  });

  it("faults - a channel's slot migrated with its history keys: the subscription follows, offsets go on, history stays readable", async () => {
    const subscriber = newBus({ history: true });
    const publisher = newBus({ history: true });
    const [target, destination] = await channelPerMaster(get(), subscriber);
    if (target === undefined || destination === undefined) throw new Error("no channels");
    const events = connectionEvents(subscriber);
    const sub = subscriber.subscribe([target.channel]);
    await sub.ready;
    const before = [sampleEvent(target.projectId), sampleEvent(target.projectId)];
    const positions = [];
    for (const event of before) positions.push(await publisher.publish(target.channel, event));
    expect(await take(sub, 2)).toEqual(before);

    await get().moveSlot(await get().slotOf(target.channel), destination.port);
    const reconnected = await nextReconnected(events);
    expect(reconnected.channels).toEqual([target.channel]);
    expect(await ownerPort(get(), target.channel)).toBe(destination.port);

    const after = [sampleEvent(target.projectId), sampleEvent(target.projectId)];
    for (const event of after) positions.push(await publisher.publish(target.channel, event));
    expect(await take(sub, 2)).toEqual(after);
    const parsed = positions.map((position) => parsePosition(position ?? ""));
    expect(parsed.map((position) => position.offset)).toEqual([1, 2, 3, 4]);
    expect(new Set(parsed.map((position) => position.epoch)).size).toBe(1);
    const page = await subscriber.history(target.channel);
    expect(page.complete).toBe(true);
    expect(page.events.map((entry) => entry.event)).toEqual([...before, ...after]);
  });

  it("faults - a slot none of a bus's channels is in migrated: nothing reported, its publishes follow the slot (MOVED)", async () => {
    const publisher = newBus();
    const subscriber = newBus();
    const [target, destination] = await channelPerMaster(get(), subscriber);
    if (target === undefined || destination === undefined) throw new Error("no channels");
    const publisherEvents = connectionEvents(publisher);
    const sub = subscriber.subscribe([target.channel]);
    await sub.ready;
    await publisher.publish(target.channel, sampleEvent(target.projectId));
    await take(sub, 1);
    const subscriberEvents = connectionEvents(subscriber);

    await get().moveSlot(await get().slotOf(target.channel), destination.port);
    await nextReconnected(subscriberEvents);
    const event = sampleEvent(target.projectId);
    await publisher.publish(target.channel, event);
    expect(await take(sub, 1)).toEqual([event]);
    expect(publisherEvents).toEqual([]);
  });

  it("faults - the whole cluster restarted: every channel reported and resubscribed, the same iterator receives, history starts a new epoch", async () => {
    const bus = newBus({ history: true });
    const placed = await channelPerMaster(get(), bus);
    const events = connectionEvents(bus);
    const sub = bus.subscribe(placed.map((entry) => entry.channel));
    await sub.ready;
    const before = await Promise.all(
      placed.map((entry) => bus.publish(entry.channel, sampleEvent(entry.projectId))),
    );
    await take(sub, placed.length);

    await get().restartAll();
    const reconnected = await nextReconnected(events);
    expect(events[0]?.state).toBe("disconnected");
    expect([...(reconnected.channels ?? [])].sort()).toEqual(
      placed.map((entry) => entry.channel).sort(),
    );

    const after = placed.map((entry) => sampleEvent(entry.projectId));
    const positions = await Promise.all(
      after.map((event, index) => bus.publish(placed[index]?.channel ?? "", event)),
    );
    expect(idsOf(await take(sub, after.length))).toEqual(idsOf(after));
    for (const [index, position] of positions.entries()) {
      const old = parsePosition(before[index] ?? "");
      expect(parsePosition(position ?? "")).toMatchObject({ offset: 1 });
      expect(parsePosition(position ?? "").epoch).not.toBe(old.epoch);
    }
  });

  it("faults - a master dead when the bus opens: the bus opens once its replica took over, and serves its channels", async () => {
    const seed = get().ports[0];
    const victim = (await get().nodes()).find(
      (node) => node.role === "master" && node.port !== seed,
    );
    if (victim === undefined) throw new Error("no master but the seed");
    await get().kill(victim.port);
    const bus = newBus({ redis: { ...FAST_REDIS, connectTimeoutMs: 20_000 } });
    const projects = Array.from({ length: 30 }, () => randomUUID());
    const channels = projects.map((projectId) => bus.getProjectChannel(projectId));
    const sub = bus.subscribe(channels);
    await sub.ready;
    await get().waitHealthy();
    const owners = await Promise.all(channels.map((channel) => ownerPort(get(), channel)));
    expect(new Set(owners).size).toBe(3);
    expect(owners).not.toContain(victim.port);
    const events = projects.map((projectId) => sampleEvent(projectId));
    await Promise.all(events.map((event, index) => bus.publish(channels[index] ?? "", event)));
    expect(idsOf(await take(sub, events.length))).toEqual(idsOf(events));
    await get().restart(victim.port);
  });

  it("faults - no seed reachable at start: NotConnectedError after connectTimeoutMs; a node that is no cluster's: ConnectionRejectedError at once", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const down = track(
      createEventBus(`redis+cluster://127.0.0.1:${closed}`, {
        redis: { ...FAST_REDIS, connectTimeoutMs: 300 },
      }),
    );
    const waiting = down.subscribe([down.getProjectChannel(randomUUID())]);
    await expect(waiting.ready).rejects.toBeInstanceOf(NotConnectedError);

    const plain = await startRedisServer();
    try {
      const url = plain.url.replace("redis://", "redis+cluster://");
      const refused = track(createEventBus(url, { redis: FAST_REDIS }));
      const projectId = randomUUID();
      const sent = refused.publish(refused.getProjectChannel(projectId), sampleEvent(projectId));
      await expect(sent).rejects.toThrow(ConnectionRejectedError);
      await expect(sent).rejects.toThrow(/cluster support disabled/);
    } finally {
      await plain.stop();
    }
  });

  it("faults - the subscriber connection killed (CLIENT KILL TYPE pubsub): reconnected with its channels, the same iterator receives again", async () => {
    const bus = newBus();
    const placed = await channelPerMaster(get(), bus);
    const [target, ...others] = placed;
    if (target === undefined) throw new Error("no channel");
    const events = connectionEvents(bus);
    const sub = bus.subscribe(placed.map((entry) => entry.channel));
    await sub.ready;

    await get().command(target.port, "CLIENT", "KILL", "TYPE", "pubsub");
    const reconnected = await nextReconnected(events);
    expect(events[0]?.state).toBe("disconnected");
    expect(reconnected.channels).toEqual([target.channel]);
    expect(bus.stats()).toMatchObject({ disconnects: 1, reconnects: 1 });
    await waitFor(async () => (await shardSubscriptions(get(), target.channel)) === 1);

    const event = sampleEvent(target.projectId);
    await bus.publish(target.channel, event);
    expect(await take(sub, 1)).toEqual([event]);
    for (const other of others) expect(await shardSubscriptions(get(), other.channel)).toBe(1);
  });
});
