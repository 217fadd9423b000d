/**
 * Helpers of the Redis Cluster test files: a raw view of the test cluster for
 * what the bus does not do (SPUBLISH of malformed messages, PUBSUB
 * SHARDNUMSUB, CLIENT KILL on the node serving a channel).
 */
import type { RedisCluster } from "@eventbus/test-redis";

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
