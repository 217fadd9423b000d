import { createClient } from "redis";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type CreateEventBusOptions,
  type RedisClusterConnectionOptions,
  UnsupportedUrlError,
} from "../src/index.js";
import type { RedisTransportOptions } from "../src/transports/redis.js";
import {
  checkRedisUrl,
  REDIS_DEFAULTS,
  type RedisConnectionOptions,
  reconnectDelay,
  resolveRedisSettings,
} from "../src/transports/redis-options.js";

describe("redis options - reconnect delay", () => {
  const settings = { reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 5_000 };

  it("doubles from the initial delay up to the cap, half of it random", () => {
    const [low, high] = [0, 0.999_999];
    expect([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, settings, high))).toEqual([
      100, 200, 400, 800,
    ]);
    expect([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, settings, low))).toEqual([
      50, 100, 200, 400,
    ]);
    expect(reconnectDelay(10, settings, high)).toBe(5_000);
    expect(reconnectDelay(1_000, settings, low)).toBe(2_500);
  });

  it("stays within [cap / 2, cap] with Math.random", () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const delay = reconnectDelay(attempt, settings);
      const capped = Math.min(5_000, 100 * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(capped / 2);
      expect(delay).toBeLessThanOrEqual(capped);
    }
  });
});

describe("redis options - settings", () => {
  it("fills in the defaults and keeps what is given", () => {
    expect(resolveRedisSettings({})).toEqual(REDIS_DEFAULTS);
    expect(resolveRedisSettings({ publishTimeoutMs: 250 })).toEqual({
      ...REDIS_DEFAULTS,
      publishTimeoutMs: 250,
    });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %s", (value) => {
    expect(() => resolveRedisSettings({ connectTimeoutMs: value })).toThrow(RangeError);
  });

  it("refuses an initial reconnect delay over the cap", () => {
    expect(() =>
      resolveRedisSettings({ reconnectInitialDelayMs: 2_000, reconnectMaxDelayMs: 1_000 }),
    ).toThrow(/reconnectInitialDelayMs/);
  });
});

describe("redis options - URLs", () => {
  it.each([
    "redis://localhost",
    "redis://127.0.0.1:6380/3",
    "rediss://user:p%40ss@redis.example.com:6380/0",
    "redis://:password@[::1]:6379",
  ])("accepts %s", (url) => {
    expect(() => checkRedisUrl(url)).not.toThrow();
  });

  it.each([
    "http://localhost",
    "redis://",
    "redis://localhost/db1",
    "redis://localhost:6379/0?timeout=5",
    "redis://localhost:99999",
  ])("refuses %s with UnsupportedUrlError", (url) => {
    expect(() => checkRedisUrl(url)).toThrow(UnsupportedUrlError);
  });

  it("keeps the password out of the error", () => {
    expect(() => checkRedisUrl("redis://user:s3cret@host/x")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("s3cret") }),
    );
  });
});

describe("redis options - types", () => {
  it("takes a url or a node-redis client to copy, never both, never neither", () => {
    expectTypeOf({ url: "redis://localhost" }).toExtend<RedisTransportOptions>();
    expectTypeOf({ client: createClient(), publishTimeoutMs: 1 }).toExtend<RedisTransportOptions>();
    expectTypeOf({
      url: "redis://localhost",
      client: createClient(),
    }).not.toExtend<RedisTransportOptions>();
    expectTypeOf({ publishTimeoutMs: 1 }).not.toExtend<RedisTransportOptions>();
  });

  it("createEventBus takes the Redis settings (and cluster seeds), not a client", () => {
    expectTypeOf<
      NonNullable<CreateEventBusOptions["redis"]>
    >().toEqualTypeOf<RedisClusterConnectionOptions>();
    expectTypeOf<RedisClusterConnectionOptions>().toExtend<RedisConnectionOptions>();
    expectTypeOf({ redis: { client: createClient() } }).not.toExtend<CreateEventBusOptions>();
  });
});
