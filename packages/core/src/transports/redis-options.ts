/**
 * The Redis transport's settings, their defaults and the pure rules built on
 * them (reconnect delays, URL checks). Kept apart from `redis.ts` so that
 * `createEventBus` can check a URL and `index.ts` can export these types
 * without loading node-redis.
 */
import { UnsupportedUrlError } from "../errors.js";

/** How the Redis transport connects, waits and recovers. Every field is optional. */
export interface RedisConnectionOptions {
  /**
   * How long an operation waits for a connection to the server: opening the
   * bus (the bus then fails with `NotConnectedError`), and a `subscribe` made
   * while disconnected. Also bounds each TCP (and TLS) connect attempt.
   * Default 10,000 ms.
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long a `publish` made while disconnected waits for the connection
   * before failing with `NotConnectedError`; also how long `close()` lets
   * publishes in flight finish. Default 5,000 ms.
   */
  readonly publishTimeoutMs?: number;
  /**
   * Each connection sends `PING` this long after its last one completed, and
   * is dropped and replaced when it has seen no traffic for twice this long:
   * a hung server is detected within about three intervals, with one timer per
   * connection rather than one per command. Default 5,000 ms.
   */
  readonly healthCheckIntervalMs?: number;
  /** The first reconnect delay; each further attempt doubles it, up to `reconnectMaxDelayMs`. Default 100 ms. */
  readonly reconnectInitialDelayMs?: number;
  /** The cap of the reconnect delay. Default 5,000 ms. */
  readonly reconnectMaxDelayMs?: number;
}

/** The defaults of {@link RedisConnectionOptions}. */
export const REDIS_DEFAULTS = {
  connectTimeoutMs: 10_000,
  publishTimeoutMs: 5_000,
  healthCheckIntervalMs: 5_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
} as const satisfies Required<RedisConnectionOptions>;

/**
 * The write buffer of each connection's socket (Node's default is 16 KiB).
 * node-redis writes queued commands in one batch until the socket's buffer
 * reaches this mark, then waits for `drain` and a `setImmediate` before the
 * next batch: at 16 KiB, a 16 KB event went out alone, one event loop turn
 * per event. At 1 MiB a batch holds about sixty such events, or all of a
 * pipelined window of small ones. Nothing more is held in memory than
 * before: the commands waited in node-redis's queue instead.
 */
export const REDIS_SOCKET_BUFFER_BYTES = 1024 * 1024;

/**
 * A message as the Redis transports hand it to node-redis: its UTF-8 bytes,
 * encoded at once. node-redis writes queued commands on a later turn, so a
 * string argument stays on V8's heap until then: a window or burst of
 * publishes outlives a young-generation collection and is copied, then
 * promoted, and the string is scanned once for the RESP length and converted
 * again by the socket. A Buffer's bytes live outside the heap, its length is
 * known and the socket writes it as it is (docs/performance.md, section 5).
 */
export function messageBytes(data: string): Buffer {
  return Buffer.from(data, "utf8");
}

/** {@link RedisConnectionOptions} with every default filled in. */
export type RedisSettings = Required<RedisConnectionOptions>;

/**
 * Fills in the defaults.
 * @throws {RangeError} if a value is not a positive integer, or the initial
 *   reconnect delay exceeds the maximum.
 */
export function resolveRedisSettings(options: RedisConnectionOptions): RedisSettings {
  const settings: { -readonly [K in keyof RedisSettings]: number } = { ...REDIS_DEFAULTS };
  for (const key of Object.keys(REDIS_DEFAULTS) as (keyof RedisSettings)[]) {
    const value = options[key] ?? REDIS_DEFAULTS[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${value}`);
    }
    settings[key] = value;
  }
  if (settings.reconnectInitialDelayMs > settings.reconnectMaxDelayMs) {
    throw new RangeError("reconnectInitialDelayMs must not exceed reconnectMaxDelayMs");
  }
  return settings;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential
 * backoff capped at `reconnectMaxDelayMs`, with "equal jitter": half the
 * delay fixed, half random, so many buses losing one server do not come back
 * in lockstep, yet none retries in a tight loop.
 *
 * @param random - a number in [0, 1), `Math.random()` by default.
 */
export function reconnectDelay(
  attempt: number,
  settings: Pick<RedisSettings, "reconnectInitialDelayMs" | "reconnectMaxDelayMs">,
  random: number = Math.random(),
): number {
  const exponential = settings.reconnectInitialDelayMs * 2 ** Math.min(attempt, 30);
  const capped = Math.min(settings.reconnectMaxDelayMs, exponential);
  return Math.round(capped / 2 + (capped / 2) * random);
}

/**
 * Checks a `redis://` or `rediss://` URL as node-redis reads it:
 * `redis[s]://[[user][:password]@]host[:port][/db]`.
 *
 * @throws {UnsupportedUrlError} another scheme, no host, a bad port, or a database that is not a number.
 */
export function checkRedisUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new UnsupportedUrlError(url, "expected redis:// or rediss://");
  }
  if (parsed.hostname === "") throw new UnsupportedUrlError(url, "no host");
  const database = parsed.pathname.slice(1);
  if (database !== "" && !/^\d+$/.test(database)) {
    throw new UnsupportedUrlError(url, `the path must be a database number, got ${database}`);
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new UnsupportedUrlError(url, "query strings and fragments are not read");
  }
}
