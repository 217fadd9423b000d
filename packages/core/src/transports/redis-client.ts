/**
 * The node-redis settings every connection of the Redis transports (single
 * server and cluster) is made with, in one place.
 */
import type { createClient, RedisClientOptions, RedisFunctions, RedisModules } from "redis";
import { HISTORY_SCRIPTS } from "../history/redis-store.js";
import { REDIS_SOCKET_BUFFER_BYTES, type RedisSettings } from "./redis-options.js";

/** A connection of the Redis transports: RESP3, with the history scripts. */
export type Client = ReturnType<
  typeof createClient<RedisModules, RedisFunctions, typeof HISTORY_SCRIPTS, 3>
>;

/**
 * The options of a connection, apart from where it connects:
 * - `socket.reconnectStrategy: false`: the transport, not node-redis,
 *   replaces a lost connection, so each connection starts clean and is
 *   re-subscribed explicitly;
 * - `commandOptions.timeout: 0`: no timer per command (node-redis 6 arms one
 *   by default, for the time a command waits to be written);
 * - `pingInterval` plus `socket.socketTimeout` (twice the interval): the
 *   bound on a hung server, one timer per connection;
 * - `disableOfflineQueue`: nothing waits inside node-redis without a bound;
 * - RESP3, which lets a subscriber connection answer PING; Redis 6 or later;
 * - the history scripts (`HISTORY_SCRIPTS`), run with EVALSHA when history is on;
 * - a socket write buffer of {@link REDIS_SOCKET_BUFFER_BYTES} (`highWaterMark`,
 *   which TCP and TLS sockets both take), so large events are pipelined too.
 */
export function connectionOptions(settings: RedisSettings) {
  const socket = {
    connectTimeout: settings.connectTimeoutMs,
    socketTimeout: settings.healthCheckIntervalMs * 2,
    reconnectStrategy: false,
    highWaterMark: REDIS_SOCKET_BUFFER_BYTES,
  } as const;
  const common = {
    RESP: 3,
    pingInterval: settings.healthCheckIntervalMs,
    disableOfflineQueue: true,
    commandOptions: { timeout: 0 },
    maintNotifications: "disabled",
    scripts: HISTORY_SCRIPTS,
  } as const satisfies RedisClientOptions;
  return { socket, common };
}
