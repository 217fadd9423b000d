/**
 * Helpers of the Redis test files: settings that make recovery fast, and a raw
 * node-redis client for what the bus does not do (PUBSUB NUMSUB, CLIENT KILL,
 * publishing malformed messages, CONFIG SET).
 */
import { createClient } from "redis";
import type { RedisConnectionOptions } from "../src/index.js";

/**
 * Short bounds and backoff, so fault tests recover in milliseconds rather than
 * seconds. The health check stays at a second: on a busy 2-core machine a test
 * worker's event loop can stall for longer than a shorter idle bound.
 */
export const FAST_REDIS = {
  connectTimeoutMs: 3_000,
  publishTimeoutMs: 300,
  healthCheckIntervalMs: 1_000,
  reconnectInitialDelayMs: 10,
  reconnectMaxDelayMs: 100,
} as const satisfies RedisConnectionOptions;

function newRawClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: false } });
}

/** A plain node-redis client. */
export type RawClient = ReturnType<typeof newRawClient>;

/** Connects a raw client to `url`; `destroy()` it when done. */
export async function connectRaw(url: string): Promise<RawClient> {
  const client = newRawClient(url);
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** How many connections are subscribed to `channel` (`PUBSUB NUMSUB`). */
export async function serverSubscriptions(raw: RawClient, channel: string): Promise<number> {
  const reply = await raw.sendCommand(["PUBSUB", "NUMSUB", channel]);
  return Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
}

/** The server's connections other than `raw` itself, one `CLIENT LIST` line each. */
export async function otherConnections(raw: RawClient): Promise<string[]> {
  const [own, list] = await Promise.all([
    raw.sendCommand(["CLIENT", "ID"]),
    raw.sendCommand(["CLIENT", "LIST"]),
  ]);
  return String(list)
    .split("\n")
    .filter((line) => line.startsWith("id=") && !line.startsWith(`id=${own} `));
}
