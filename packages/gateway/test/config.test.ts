import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveServeConfig } from "../src/cli/serve-config.js";
import { isLoopback } from "../src/config.js";
import { ConfigError, createGateway, DEFAULT_SETTINGS } from "../src/index.js";

describe("config", () => {
  it("config - defaults: loopback, port 8080, in-memory bus, access control off", () => {
    const config = resolveServeConfig({}, {});
    expect(config).toMatchObject({
      url: undefined,
      host: "127.0.0.1",
      port: 8080,
      logLevel: "info",
      auth: { secret: undefined, publicKey: undefined },
      ...DEFAULT_SETTINGS,
    });
  });

  it("config - a flag wins over its environment variable, which wins over the default", () => {
    const env = { EVENTBUS_PORT: "9000", EVENTBUS_HEARTBEAT_MS: "500", EVENTBUS_URL: "memory://" };
    const config = resolveServeConfig({ port: "0" }, env);
    expect(config.port).toBe(0);
    expect(config.heartbeatMs).toBe(500);
    expect(config.url).toBe("memory://");
  });

  it("config - reads the secret from the environment and the public key from its file", () => {
    const dir = mkdtempSync(join(tmpdir(), "eventbus-config-"));
    const file = join(dir, "key.pem");
    writeFileSync(file, "PEM TEXT");
    const config = resolveServeConfig(
      { jwtPublicKeyFile: file },
      { EVENTBUS_JWT_SECRET: "s".repeat(40) },
    );
    expect(config.auth).toEqual({ secret: "s".repeat(40), publicKey: "PEM TEXT" });
    expect(() => resolveServeConfig({ jwtPublicKeyFile: join(dir, "missing.pem") }, {})).toThrow(
      /cannot read the JWT public key file/,
    );
  });

  it.each([
    [{ port: "80a" }, /--port \(EVENTBUS_PORT\)/],
    [{ port: "70000" }, /--port/],
    [{ heartbeatMs: "0" }, /--heartbeat-ms/],
    [{ heartbeatMs: "9999999999" }, /--heartbeat-ms/],
    [{ streamBuffer: "-1" }, /--stream-buffer/],
    [{ logLevel: "loud" }, /--log-level/],
  ])("config - refuses %o naming the flag and variable", (flags, message) => {
    expect(() => resolveServeConfig(flags, {})).toThrow(ConfigError);
    expect(() => resolveServeConfig(flags, {})).toThrow(message);
  });

  it("config - loopback is localhost, 127.0.0.0/8 and ::1 only", () => {
    for (const host of [
      "localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
    ]) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com", "127.0.0.1.example.com"]) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it("config - without a key the gateway refuses to listen beyond loopback", async () => {
    const gateway = createGateway({ logLevel: "silent" });
    try {
      await expect(gateway.listen({ host: "0.0.0.0", port: 0 })).rejects.toThrow(
        /access control is off/,
      );
    } finally {
      await gateway.close();
    }
  });
});
