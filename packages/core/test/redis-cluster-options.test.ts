import { describe, expect, it } from "vitest";
import { createEventBus, EventBus, UnsupportedUrlError } from "../src/index.js";
import { clusterEndpoints } from "../src/transports/redis-cluster-options.js";

describe("redis cluster options - URL and seeds", () => {
  it("redis cluster options - the URL's node is the first seed, with its credentials and TLS", () => {
    expect(clusterEndpoints("redis+cluster://10.0.0.1:7000")).toEqual({
      seeds: [{ host: "10.0.0.1", port: 7000 }],
      tls: false,
      username: undefined,
      password: undefined,
    });
    expect(
      clusterEndpoints("rediss+cluster://app:p%40ss@redis.internal/", ["10.0.0.2:7001", "[::1]"]),
    ).toEqual({
      seeds: [
        { host: "redis.internal", port: 6379 },
        { host: "10.0.0.2", port: 7001 },
        { host: "::1", port: 6379 },
      ],
      tls: true,
      username: "app",
      password: "p@ss",
    });
  });

  it.each([
    ["redis://10.0.0.1:7000", "expected redis+cluster://"],
    ["redis+cluster:///", "no host"],
    ["redis+cluster://10.0.0.1:7000/1", "no database number"],
    ["redis+cluster://10.0.0.1:7000?seeds=x", "query strings"],
    ["cluster", "not a URL"],
  ])("redis cluster options - refuses %j (%s)", (url, reason) => {
    expect(() => clusterEndpoints(url)).toThrow(UnsupportedUrlError);
    expect(() => clusterEndpoints(url)).toThrow(reason);
  });

  it.each(["user:pw@host:1", "host:1/0", "host:port", "", "host:1?x"])(
    "redis cluster options - refuses the seed %j",
    (seed) => {
      expect(() => clusterEndpoints("redis+cluster://h:1", [seed])).toThrow(UnsupportedUrlError);
    },
  );

  it("redis cluster options - createEventBus takes redis+cluster:// and rediss+cluster:// without connecting", async () => {
    for (const url of ["redis+cluster://127.0.0.1:1", "rediss+cluster://127.0.0.1:1"]) {
      const bus = createEventBus(url, { redis: { seeds: ["127.0.0.1:2"] } });
      expect(bus).toBeInstanceOf(EventBus);
      await bus.close();
    }
  });

  it("redis cluster options - createEventBus refuses a bad seed, and seeds with a URL that is not a cluster's", () => {
    expect(() =>
      createEventBus("redis+cluster://127.0.0.1:1", { redis: { seeds: ["a:b:c:d"] } }),
    ).toThrow(UnsupportedUrlError);
    expect(() => createEventBus("redis://127.0.0.1:1", { redis: { seeds: ["h:1"] } })).toThrow(
      TypeError,
    );
  });
});
