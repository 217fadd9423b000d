import { startRedisServer } from "@eventbus/test-redis";
import { createClient } from "redis";
import { historyKeys, RedisHistoryStore } from "../src/history/redis-store.js";
import { waitFor } from "./helpers.js";
import { describeHistoryStoreConformance } from "./history-store.conformance.js";
import { connectHistoryClient } from "./redis-helpers.js";

describeHistoryStoreConformance("redis", async () => {
  const server = await startRedisServer();
  const client = await connectHistoryClient(server.url);
  const subscriber = createClient({ url: server.url });
  await subscriber.connect();
  return {
    newStore: (options) => new RedisHistoryStore({ ...options, client: () => client }),
    listen: async (channel) => {
      const messages: string[] = [];
      await subscriber.subscribe(channel, (message) => messages.push(message));
      return messages;
    },
    expire: async (_store, channel, what) => {
      // The ttls themselves are checked in history-redis.faults.test.ts; here they run out at once.
      const keys = historyKeys(channel);
      const gone =
        what === "events" ? [keys.history, keys.ids] : [keys.history, keys.ids, keys.meta];
      for (const key of gone) await client.pExpire(key, 1);
      await waitFor(async () => (await client.exists(gone)) === 0, { message: `${what} expired` });
    },
    cleanup: async () => {
      client.destroy();
      subscriber.destroy();
      await server.stop();
    },
  };
});
