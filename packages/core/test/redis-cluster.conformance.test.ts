import { startRedisCluster } from "@eventbus/test-redis";
import { createEventBus } from "../src/index.js";
import { type ConformanceFixture, describeTransportConformance } from "./conformance.js";
import { describeBusHistoryConformance } from "./history-bus.conformance.js";
import { shardSubscriptions, spublishRaw } from "./redis-cluster-helpers.js";
import { describeResumeConformance } from "./resume.conformance.js";

async function setup(): Promise<ConformanceFixture> {
  const cluster = await startRedisCluster();
  return {
    newBus: (options) => createEventBus(cluster.url, options),
    publishRaw: (channel, data) => spublishRaw(cluster, channel, data),
    serverSubscriptions: (channel) => shardSubscriptions(cluster, channel),
    cleanup: () => cluster.stop(),
  };
}

describeTransportConformance("redis cluster", setup);
describeBusHistoryConformance("redis cluster", setup);
describeResumeConformance("redis cluster", setup);
