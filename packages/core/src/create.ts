import { EventBus, type EventBusOptions } from "./bus.js";
import { UnsupportedUrlError } from "./errors.js";
import { LazyTransport } from "./transports/lazy.js";
import { MemoryTransport } from "./transports/memory.js";
import {
  checkRedisUrl,
  type RedisConnectionOptions,
  resolveRedisSettings,
} from "./transports/redis-options.js";

/** What {@link createEventBus} takes besides the URL: everything but the transport. */
export interface CreateEventBusOptions extends Omit<EventBusOptions, "transport"> {
  /** How a `redis://` or `rediss://` bus connects, waits and recovers; ignored for memory. */
  readonly redis?: RedisConnectionOptions;
}

/**
 * Builds an {@link EventBus} from a URL, typically `process.env.EVENTBUS_URL`:
 * `undefined`, `""` or `memory://` gives the in-memory transport (the embedded
 * default), `redis://` or `rediss://` (`redis[s]://[[user][:password]@]host[:port][/db]`)
 * the Redis transport. The Redis client is loaded when the bus opens, so a
 * memory bus never loads it; connection failures surface through `publish`
 * and `subscription.ready` (`NotConnectedError`, `ConnectionRejectedError`).
 *
 * @throws {UnsupportedUrlError} for any other scheme, or a malformed Redis URL.
 * @throws {RangeError} a bound or a Redis timeout is not a positive integer.
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
      const settings = resolveRedisSettings(redis ?? {});
      const transport = new LazyTransport(async () => {
        const { RedisTransport } = await import("./transports/redis.js").catch((cause: unknown) => {
          const detail = cause instanceof Error ? cause.message : String(cause);
          throw new UnsupportedUrlError(
            redisUrl,
            `the Redis transport could not be loaded: ${detail}`,
          );
        });
        return new RedisTransport({ ...settings, url: redisUrl });
      });
      return new EventBus({ ...busOptions, transport });
    }
    default:
      throw new UnsupportedUrlError(url ?? "", "expected memory://, redis:// or rediss://");
  }
}

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
}
