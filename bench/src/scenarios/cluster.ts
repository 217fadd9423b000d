/**
 * Scenarios 15-17 (issue 11): the bus on a three-master Redis Cluster against
 * one Redis server, and sharded against classic Pub/Sub on the same cluster.
 * Each scenario starts its own throw-away cluster (three masters, three
 * replicas) and stops it, by pid, when its last contender closes.
 */
import { randomUUID } from "node:crypto";
import { ChannelNames, createEventBus } from "@eventbus/core";
import { type RedisCluster, startRedisCluster } from "@eventbus/test-redis";
import { createClient, createCluster } from "redis";
import type { Contender } from "../contenders.js";
import { Receiver } from "../drivers.js";
import { eventPool, seqOf } from "../fixtures.js";
import type { Context, Runner, Sample, Scenario } from "../harness.js";

/** The cluster's nodes get the suite's Pub/Sub output-buffer setting (no limit). */
const CLUSTER_ARGS = ["--client-output-buffer-limit", "pubsub 0 0 0"];

const channels = new ChannelNames();

/**
 * A scenario whose contenders need a cluster: `build` makes the scenario once
 * the cluster runs; the cluster stops when the last runner closes (or at once
 * if opening failed).
 */
export function onCluster(
  describe: Omit<Scenario, "open">,
  build: (cluster: RedisCluster) => Scenario,
): Scenario {
  return {
    ...describe,
    open: async (context: Context) => {
      if (!describe.contenders.some((name) => context.selected(name))) return [];
      context.progress(`${describe.id}: starting a three-master cluster`);
      const cluster = await startRedisCluster({ args: CLUSTER_ARGS });
      let runners: Runner[];
      try {
        runners = await build(cluster).open(context);
      } catch (error) {
        await cluster.stop();
        throw error;
      }
      let open = runners.length;
      if (open === 0) await cluster.stop();
      return runners.map((runner) => ({
        ...runner,
        run: () => runner.run(),
        close: async () => {
          await runner.close();
          if (--open === 0) await cluster.stop();
        },
      }));
    },
  };
}

/** The bus on the cluster: a contender like `bus/redis`, on `cluster.url`. */
export function busOnCluster(cluster: RedisCluster, busContender: Contender): Contender {
  return {
    name: "bus/cluster",
    openPipe: (options) => busContender.openPipe({ ...options, redisUrl: cluster.url }),
    ...(busContender.openHolder === undefined
      ? {}
      : {
          openHolder: () =>
            (busContender.openHolder as NonNullable<Contender["openHolder"]>)(cluster.url),
        }),
  };
}

/** A node's `INFO` (or `CLUSTER INFO`) as numbers by field. */
async function infoOf(cluster: RedisCluster, port: number, ...section: string[]) {
  const text = String(await cluster.command(port, ...section));
  const fields = new Map<string, number>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), Number(line.slice(colon + 1)));
  }
  return fields;
}

/** The cluster-bus messages the node on `port` sent, and its CPU seconds so far. */
async function nodeCounters(cluster: RedisCluster, port: number) {
  const [clusterInfo, cpu] = await Promise.all([
    infoOf(cluster, port, "CLUSTER", "INFO"),
    infoOf(cluster, port, "INFO", "cpu"),
  ]);
  return {
    busMessages: clusterInfo.get("cluster_stats_messages_sent") ?? 0,
    cpuSeconds: (cpu.get("used_cpu_sys") ?? 0) + (cpu.get("used_cpu_user") ?? 0),
  };
}

/** How the sharding scenario is sized. */
export interface ShardingSpec {
  readonly events: number;
  readonly warmups: number;
  readonly rounds: number;
}

type Mode = "SPUBLISH (sharded)" | "PUBLISH (classic)";
const MODES: readonly Mode[] = ["SPUBLISH (sharded)", "PUBLISH (classic)"];

/**
 * Scenario 16: one channel, one subscriber, raw node-redis cluster clients;
 * per event, the cluster-bus messages every node sent and the CPU time of the
 * masters that do not own the channel's slot.
 */
export function shardingScenario(spec: ShardingSpec): Scenario {
  const description = {
    id: "cluster-sharding",
    title: "16. Sharded against classic Pub/Sub on a three-master cluster",
    description: `${spec.events.toLocaleString("en-US")} events of about 300 B to one channel with one subscriber (raw node-redis cluster clients, 100 in flight): SPUBLISH/SSUBSCRIBE against PUBLISH/SUBSCRIBE; per event, cluster-bus messages sent by all six nodes, CPU time of the two masters that do not own the channel's slot, of the owner, and of all six nodes.`,
    metrics: [
      { key: "busMessagesPerEvent", unit: "bus msgs/event", better: "lower" },
      { key: "otherMastersCpuUs", unit: "µs CPU/event (other masters)", better: "lower" },
      { key: "ownerCpuUs", unit: "µs CPU/event (owner)", better: "lower" },
      { key: "allNodesCpuUs", unit: "µs CPU/event (all six nodes)", better: "lower" },
      { key: "eventsPerSec", unit: "events/s", better: "higher" },
    ],
    contenders: MODES,
    reference: "PUBLISH (classic)",
    targets: [],
    warmups: spec.warmups,
    rounds: spec.rounds,
  } as const;
  return onCluster(description, (cluster) => ({
    ...description,
    open: async (context) =>
      Promise.all(
        MODES.filter((mode) => context.selected(mode)).map((mode) =>
          shardingRunner(cluster, mode, spec.events),
        ),
      ),
  }));
}

async function shardingRunner(cluster: RedisCluster, mode: Mode, events: number): Promise<Runner> {
  const projectId = randomUUID();
  const channel = channels.project(projectId);
  const pool = eventPool(Math.min(events, 10_000), 300, projectId).map((event) =>
    JSON.stringify(event),
  );
  const seed = { url: cluster.url.replace("redis+cluster://", "redis://") };
  const publisher = createCluster({ rootNodes: [seed] });
  const subscriber = createCluster({ rootNodes: [seed] });
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const receiver = new Receiver();
  const listener = (message: string): void => receiver.sink(seqOf(JSON.parse(message)));
  if (mode === "SPUBLISH (sharded)") await subscriber.sSubscribe(channel, listener);
  else await subscriber.subscribe(channel, listener);
  const slot = Number(
    await cluster.command(cluster.ports[0] as number, "CLUSTER", "KEYSLOT", channel),
  );
  const publish = (message: string): Promise<unknown> =>
    mode === "SPUBLISH (sharded)"
      ? publisher.sPublish(channel, message)
      : publisher.publish(channel, message);
  return {
    name: mode,
    run: async (): Promise<Sample> => {
      const owner = await cluster.ownerOf(slot);
      const nodes = await cluster.nodes();
      const others = nodes.filter((node) => node.role === "master" && node.id !== owner.id);
      const before = await Promise.all(nodes.map((node) => nodeCounters(cluster, node.port)));
      const arrived = receiver.expect(events);
      const started = performance.now();
      for (let at = 0; at < events; at += 100) {
        const batch: Promise<unknown>[] = [];
        for (let index = at; index < Math.min(events, at + 100); index++) {
          batch.push(publish(pool[index % pool.length] as string));
        }
        await Promise.all(batch);
      }
      arrived.published();
      await arrived.done;
      const seconds = (performance.now() - started) / 1_000;
      const after = await Promise.all(nodes.map((node) => nodeCounters(cluster, node.port)));
      let busMessages = 0;
      let otherCpu = 0;
      let ownerCpu = 0;
      let allCpu = 0;
      nodes.forEach((node, index) => {
        const was = before[index] as { busMessages: number; cpuSeconds: number };
        const now = after[index] as { busMessages: number; cpuSeconds: number };
        busMessages += now.busMessages - was.busMessages;
        if (node.id === owner.id) ownerCpu = now.cpuSeconds - was.cpuSeconds;
        allCpu += now.cpuSeconds - was.cpuSeconds;
        if (others.some((other) => other.id === node.id))
          otherCpu += now.cpuSeconds - was.cpuSeconds;
      });
      return {
        busMessagesPerEvent: busMessages / events,
        otherMastersCpuUs: (otherCpu * 1e6) / events,
        ownerCpuUs: (ownerCpu * 1e6) / events,
        allNodesCpuUs: (allCpu * 1e6) / events,
        eventsPerSec: events / seconds,
      };
    },
    close: async () => {
      await Promise.all([publisher.close(), subscriber.close()]);
    },
  };
}

/** How the subscription-spread scenario is sized. */
export interface SpreadSpec {
  readonly channels: number;
  readonly warmups: number;
  readonly rounds: number;
}

/**
 * Scenario 17: a bus subscribes one subscription to each of `channels` new
 * project channels: the time until all are confirmed, and the servers' memory
 * per subscription (the growth of `used_memory`, summed over the masters).
 */
export function spreadScenario(spec: SpreadSpec, busContender: Contender): Scenario {
  const count = spec.channels.toLocaleString("en-US");
  const description = {
    id: "cluster-subscriptions",
    title: `17. ${count} channels spread over the shards`,
    description: `One bus subscribes ${count} new project channels (one subscription each) on a three-master cluster, and on one Redis server: ms until the servers confirmed all, and the growth of the servers' used_memory per subscription (summed over the masters).`,
    metrics: [
      { key: "subscribeMs", unit: "ms", better: "lower" },
      { key: "serverBytesPerSub", unit: "server B/sub", better: "lower" },
    ],
    contenders: ["bus/cluster", busContender.name],
    reference: busContender.name,
    targets: [],
    warmups: spec.warmups,
    rounds: spec.rounds,
  } as const;
  return onCluster(description, (cluster) => ({
    ...description,
    open: async (context) => {
      const runners: Runner[] = [];
      if (context.selected("bus/cluster")) {
        runners.push(
          spreadRunner("bus/cluster", cluster.url, spec.channels, () => masterMemory(cluster)),
        );
      }
      if (context.selected(busContender.name)) {
        runners.push(
          spreadRunner(busContender.name, context.redisUrl, spec.channels, () =>
            serverMemory(context.redisUrl),
          ),
        );
      }
      return runners;
    },
  }));
}

function spreadRunner(
  name: string,
  url: string,
  count: number,
  memory: () => Promise<number>,
): Runner {
  return {
    name,
    run: async (): Promise<Sample> => {
      const bus = createEventBus(url);
      try {
        await bus.ready;
        const names = Array.from({ length: count }, () => channels.project(randomUUID()));
        const before = await memory();
        const started = performance.now();
        const subs = names.map((channel) => bus.subscribe([channel]));
        await Promise.all(subs.map((sub) => sub.ready));
        const subscribeMs = performance.now() - started;
        const serverBytesPerSub = ((await memory()) - before) / count;
        return { subscribeMs, serverBytesPerSub };
      } finally {
        await bus.close();
      }
    },
    close: async () => {},
  };
}

/** `used_memory` summed over the cluster's masters. */
async function masterMemory(cluster: RedisCluster): Promise<number> {
  const masters = (await cluster.nodes()).filter((node) => node.role === "master");
  const used = await Promise.all(
    masters.map(
      async (node) => (await infoOf(cluster, node.port, "INFO", "memory")).get("used_memory") ?? 0,
    ),
  );
  return used.reduce((sum, bytes) => sum + bytes, 0);
}

/** `used_memory` of one server. */
async function serverMemory(url: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    const text = await client.info("memory");
    return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? 0);
  } finally {
    client.destroy();
  }
}
