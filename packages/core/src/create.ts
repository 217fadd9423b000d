import { EventBus, type EventBusOptions } from "./bus.js";
import { UnsupportedUrlError } from "./errors.js";
import type { Transport } from "./transport.js";
import { LazyTransport } from "./transports/lazy.js";
import { MemoryTransport } from "./transports/memory.js";
import {
  clusterEndpoints,
  type RedisClusterConnectionOptions,
} from "./transports/redis-cluster-options.js";
import { checkRedisUrl, resolveRedisSettings } from "./transports/redis-options.js";

/** What {@link createEventBus} takes besides the URL: everything but the transport. */
export interface CreateEventBusOptions extends Omit<EventBusOptions, "transport"> {
  /**
   * How a Redis bus connects, waits and recovers; ignored for memory. `seeds`
   * (more nodes to read the topology from) only with a `redis+cluster://` URL.
   */
  readonly redis?: RedisClusterConnectionOptions;
}

/**
 * Builds an {@link EventBus} from a URL, typically `process.env.EVENTBUS_URL`:
 * `undefined`, `""` or `memory://` gives the in-memory transport (the embedded
 * default), `redis://` or `rediss://` (`redis[s]://[[user][:password]@]host[:port][/db]`)
 * the Redis transport, `redis+cluster://` or `rediss+cluster://`
 * (`redis[s]+cluster://[[user][:password]@]host[:port]`, one seed node; more in
 * `redis.seeds`) the Redis Cluster transport on sharded Pub/Sub. The Redis
 * client is loaded when the bus opens, so a memory bus never loads it;
 * connection failures surface through `publish` and `subscription.ready`
 * (`NotConnectedError`, `ConnectionRejectedError`).
 *
 * @throws {UnsupportedUrlError} for any other scheme, or a malformed Redis URL or seed.
 * @throws {RangeError} a bound or a Redis timeout is not a positive integer.
 * @throws {TypeError} `redis.seeds` with a URL that is not `redis+cluster://`.
 * @example
 * const bus = createEventBus(process.env.EVENTBUS_URL, { redis: { publishTimeoutMs: 2000 } });
 */
export function createEventBus(url?: string, options: CreateEventBusOptions = {}): EventBus {
  const { redis, ...busOptions } = options;
  const scheme = url === undefined || url === "" ? "memory:" : schemeOf(url);
  switch (scheme) {
    case "memory:":
      return new EventBus({ ...busOptions, transport: new MemoryTransport() });
    case "redis:":
    case "rediss:": {
      const redisUrl = url ?? "";
      checkRedisUrl(redisUrl);
      if (redis?.seeds !== undefined) {
        throw new TypeError("redis.seeds is read only with a redis+cluster:// URL");
      }
      const settings = resolveRedisSettings(redis ?? {});
      const transport = lazily(redisUrl, "Redis", async () => {
        const { RedisTransport } = await import("./transports/redis.js");
        return new RedisTransport({ ...settings, url: redisUrl });
      });
      return new EventBus({ ...busOptions, transport });
    }
    case "redis+cluster:":
    case "rediss+cluster:": {
      const clusterUrl = url ?? "";
      clusterEndpoints(clusterUrl, redis?.seeds);
      const settings = { ...resolveRedisSettings(redis ?? {}), seeds: redis?.seeds ?? [] };
      const transport = lazily(clusterUrl, "Redis Cluster", async () => {
        const { RedisClusterTransport } = await import("./transports/redis-cluster.js");
        return new RedisClusterTransport({ ...settings, url: clusterUrl });
      });
      return new EventBus({ ...busOptions, transport });
    }
    default:
      throw new UnsupportedUrlError(
        url ?? "",
        "expected memory://, redis://, rediss://, redis+cluster:// or rediss+cluster://",
      );
  }
}

/** A transport that loads its module when the bus opens; a module that fails to load fails the open. */
function lazily(url: string, name: string, load: () => Promise<Transport>): LazyTransport {
  return new LazyTransport(() =>
    load().catch((cause: unknown) => {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new UnsupportedUrlError(url, `the ${name} transport could not be loaded: ${detail}`);
    }),
  );
}

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
}
