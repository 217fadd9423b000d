import { type RedisCluster, startRedisCluster } from "@eventbus/test-redis";
import { historyKeys } from "../src/history/redis-store.js";
import { resolveHistorySettings } from "../src/history/store.js";
import type { TransportSink } from "../src/index.js";
import { RedisClusterTransport } from "../src/transports/redis-cluster.js";
import { waitFor } from "./helpers.js";
import { describeHistoryStoreConformance } from "./history-store.conformance.js";
import { ownerPort } from "./redis-cluster-helpers.js";
import { FAST_REDIS } from "./redis-helpers.js";

/** Deletes `keys` of one slot on its master, through a 1 ms ttl, and waits until they are gone. */
async function expireNow(cluster: RedisCluster, keys: readonly string[]): Promise<void> {
  const port = await ownerPort(cluster, keys[0] ?? "");
  for (const key of keys) await cluster.command(port, "PEXPIRE", key, "1");
  await waitFor(async () => Number(await cluster.command(port, "EXISTS", ...keys)) === 0, {
    message: "the keys expired",
  });
}

describeHistoryStoreConformance("redis cluster", async () => {
  const cluster = await startRedisCluster();
  const heard = new Map<string, string[]>();
  const sink: TransportSink = {
    message: (channel, data) => heard.get(channel)?.push(data),
    connection: () => {},
    liveChannels: () => [...heard.keys()],
  };
  const transport = new RedisClusterTransport({ ...FAST_REDIS, url: cluster.url });
  await transport.open(sink);
  return {
    newStore: (options) => transport.history(resolveHistorySettings(options)),
    listen: async (channel) => {
      const messages: string[] = [];
      heard.set(channel, messages);
      await transport.subscribe([channel]);
      return messages;
    },
    expire: async (_store, channel, what) => {
      // The ttls themselves are checked in history-redis.faults.test.ts; here they run out at once.
      const keys = historyKeys(channel);
      await expireNow(
        cluster,
        what === "events" ? [keys.history, keys.ids] : [keys.history, keys.ids, keys.meta],
      );
    },
    cleanup: async () => {
      await transport.close();
      await cluster.stop();
    },
  };
});
