/**
 * Helpers of the Redis Cluster test files: one test cluster per describe
 * block, and a raw view of it for what the bus does not do (SPUBLISH of
 * malformed messages, PUBSUB SHARDNUMSUB, CLIENT KILL on a channel's master).
 */
import { randomUUID } from "node:crypto";
import { type RedisCluster, startRedisCluster } from "@eventbus/test-redis";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { ConnectionEvent, Event, EventBus, Subscription } from "../src/index.js";

/** The port of the master serving `channel` now. */
export async function ownerPort(cluster: RedisCluster, channel: string): Promise<number> {
  return (await cluster.ownerOf(await cluster.slotOf(channel))).port;
}

/** SPUBLISHes `data` as-is on the master serving `channel`. */
export async function spublishRaw(
  cluster: RedisCluster,
  channel: string,
  data: string,
): Promise<void> {
  await cluster.command(await ownerPort(cluster, channel), "SPUBLISH", channel, data);
}

/** How many connections of the serving master hold `channel` (`PUBSUB SHARDNUMSUB`). */
export async function shardSubscriptions(cluster: RedisCluster, channel: string): Promise<number> {
  const port = await ownerPort(cluster, channel);
  const reply = await cluster.command(port, "PUBSUB", "SHARDNUMSUB", channel);
  return Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
}

/** A project channel of `bus` on each master, with its project and master's port. */
export interface PlacedChannel {
  readonly channel: string;
  readonly projectId: string;
  readonly port: number;
}

/** One project channel of `bus` per master of `cluster` (random projects until every master has one). */
export async function channelPerMaster(
  cluster: RedisCluster,
  bus: EventBus,
): Promise<PlacedChannel[]> {
  const masters = (await cluster.nodes()).filter((node) => node.role === "master");
  const placed = new Map<number, PlacedChannel>();
  while (placed.size < masters.length) {
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const port = await ownerPort(cluster, channel);
    if (!placed.has(port)) placed.set(port, { channel, projectId, port });
  }
  return [...placed.values()];
}

/** Every connection event of `bus`, in order. */
export function connectionEvents(bus: EventBus): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  bus.on("connection", (event) => events.push(event));
  return events;
}

/** Reads `sub` in the background into the array returned, until it ends. */
export function drain(sub: Subscription): Event[] {
  const received: Event[] = [];
  void (async () => {
    for await (const event of sub) received.push(event);
  })();
  return received;
}

/** One test cluster for a describe block, and the buses its tests open. */
export interface ClusterFixture {
  readonly cluster: RedisCluster;
  /** Closes `bus` after the current test; returns it. */
  track<B extends EventBus>(bus: B): B;
}

/**
 * Registers the hooks of a describe block that shares one cluster: starts it
 * before the tests, closes the tracked buses after each, and stops every
 * node, by pid, after the last.
 */
export function useRedisCluster(): ClusterFixture {
  let cluster: RedisCluster | undefined;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (cluster === undefined) throw new Error("the cluster is used before its beforeAll ran");
      return cluster;
    },
    track(bus) {
      buses.push(bus);
      return bus;
    },
  };
}
