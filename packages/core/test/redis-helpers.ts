/**
 * Helpers of the Redis test files: settings that make recovery fast, and a raw
 * node-redis client for what the bus does not do (PUBSUB NUMSUB, CLIENT KILL,
 * publishing malformed messages, CONFIG SET).
 */
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll } from "vitest";
import { HISTORY_SCRIPTS } from "../src/history/redis-store.js";
import type { EventBus, RedisConnectionOptions } from "../src/index.js";

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

/**
 * No per-command timer (node-redis arms one of 5 s by default): 11,000
 * pipelined PUBLISHes can wait longer than that to be written on a loaded
 * machine; each test's own deadline bounds the wait instead.
 */
function newRawClient(url: string) {
  return createClient({
    url,
    socket: { reconnectStrategy: false },
    commandOptions: { timeout: 0 },
  });
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

function newHistoryClient(url: string) {
  return createClient({
    url,
    RESP: 3,
    scripts: HISTORY_SCRIPTS,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: false },
  });
}

/** A node-redis client with the history scripts, set as the Redis transport sets its connections. */
export type HistoryClient = ReturnType<typeof newHistoryClient>;

/** Connects a client with the history scripts to `url`; `destroy()` it when done. */
export async function connectHistoryClient(url: string): Promise<HistoryClient> {
  const client = newHistoryClient(url);
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

/** One redis-server for a describe block, a raw client on it, and the buses its tests open. */
export interface RedisFixture {
  readonly server: RedisServer;
  readonly raw: RawClient;
  /** Closes `bus` after the current test; returns it. */
  track<B extends EventBus>(bus: B): B;
}

/**
 * Registers the hooks of a describe block that shares one server: starts it
 * (and a raw client) before the tests, closes the tracked buses after each,
 * and stops the server, by pid, after the last.
 */
export function useRedisServer(): RedisFixture {
  let server: RedisServer | undefined;
  let raw: RawClient | undefined;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    raw = await connectRaw(server.url);
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    raw?.destroy();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the Redis fixture is used before its beforeAll ran");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get raw() {
      return started(raw);
    },
    track(bus) {
      buses.push(bus);
      return bus;
    },
  };
}
