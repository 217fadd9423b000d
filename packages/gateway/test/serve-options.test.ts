import { HISTORY_DEFAULTS } from "@eventbus/core";
import { describe, expect, it } from "vitest";
import { resolveServeConfig } from "../src/cli/serve-config.js";
import { ConfigError, DEFAULT_LIMITS } from "../src/index.js";
import { postJson, runCli, SECRET, serveCli, startGateway, tokenFor, uuid } from "./support.js";

describe("serve options - deployments", () => {
  it("serve options - defaults: no CORS, no rate or stream limit, 64 channels per stream, no JWKS", () => {
    const config = resolveServeConfig({}, {});
    expect(config.cors).toEqual({ origins: [], credentials: false });
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.auth.jwks).toBeUndefined();
    expect(config.auth.grantClaim).toBeUndefined();
  });

  it("serve options - flags and variables for JWKS, iss, aud, the grant claim, CORS and limits", () => {
    const fromEnv = resolveServeConfig(
      {},
      {
        EVENTBUS_JWKS_URL: "https://id.example.test/certs",
        EVENTBUS_JWT_ISSUER: "https://id.example.test",
        EVENTBUS_JWT_AUDIENCE: "eventbus",
        EVENTBUS_JWT_GRANT_CLAIM: "https://acme.example/eventbus",
        EVENTBUS_CORS_ORIGINS: "https://a.example.test, https://b.example.test",
        EVENTBUS_CORS_CREDENTIALS: "true",
        EVENTBUS_PUBLISH_RATE: "120",
        EVENTBUS_PUBLISH_RATE_WINDOW_MS: "60000",
        EVENTBUS_MAX_STREAMS_PER_CLIENT: "4",
        EVENTBUS_MAX_STREAM_CHANNELS: "16",
      },
    );
    expect(fromEnv.auth).toMatchObject({
      jwks: { url: "https://id.example.test/certs" },
      issuer: "https://id.example.test",
      audience: "eventbus",
      grantClaim: "https://acme.example/eventbus",
    });
    expect(fromEnv.cors).toEqual({
      origins: ["https://a.example.test", "https://b.example.test"],
      credentials: true,
    });
    expect(fromEnv.limits).toEqual({
      publishRate: 120,
      publishRateWindowMs: 60_000,
      streamsPerClient: 4,
      channelsPerStream: 16,
    });
    const fromFlags = resolveServeConfig(
      { corsOrigin: ["https://c.example.test"], corsCredentials: true, maxStreamChannels: "2" },
      { EVENTBUS_CORS_ORIGINS: "https://a.example.test", EVENTBUS_MAX_STREAM_CHANNELS: "9" },
    );
    expect(fromFlags.cors).toEqual({ origins: ["https://c.example.test"], credentials: true });
    expect(fromFlags.limits.channelsPerStream).toBe(2);
  });

  it("serve options - history: on with core's bounds by default, bounded by flags or variables, off with --no-history", () => {
    expect(resolveServeConfig({}, {}).history).toEqual({
      maxEntries: HISTORY_DEFAULTS.maxEntries,
      ttlMs: HISTORY_DEFAULTS.ttlMs,
    });
    // Commander gives a `--no-` switch `true` when the flag is absent: the variable decides then.
    expect(
      resolveServeConfig(
        { history: true },
        { EVENTBUS_HISTORY_MAX_ENTRIES: "50", EVENTBUS_HISTORY_TTL_MS: "60000" },
      ).history,
    ).toEqual({ maxEntries: 50, ttlMs: 60_000 });
    expect(
      resolveServeConfig(
        { history: true, historyMaxEntries: "7" },
        { EVENTBUS_HISTORY_MAX_ENTRIES: "50" },
      ).history,
    ).toMatchObject({ maxEntries: 7 });
    expect(resolveServeConfig({ history: true }, { EVENTBUS_HISTORY: "false" }).history).toBe(
      false,
    );
    expect(resolveServeConfig({ history: false }, { EVENTBUS_HISTORY: "true" }).history).toBe(
      false,
    );
    expect(() => resolveServeConfig({ history: true }, { EVENTBUS_HISTORY: "maybe" })).toThrow(
      /--no-history \(EVENTBUS_HISTORY\) must be true or false/,
    );
  });

  it.each([
    [{ corsCredentials: "yes" }, /--cors-credentials \(EVENTBUS_CORS_CREDENTIALS\)/],
    [{ historyMaxEntries: "0" }, /--history-max-entries \(EVENTBUS_HISTORY_MAX_ENTRIES\)/],
    [{ historyTtlMs: "1h" }, /--history-ttl-ms \(EVENTBUS_HISTORY_TTL_MS\)/],
    [{ historyTtlMs: String(HISTORY_DEFAULTS.metaTtlMs + 1) }, /--history-ttl-ms/],
    [{ publishRate: "-1" }, /--publish-rate/],
    [{ maxStreamChannels: "0" }, /--max-stream-channels/],
  ])("serve options - refuses %o naming the flag and variable", (flags, message) => {
    expect(() => resolveServeConfig(flags, {})).toThrow(ConfigError);
    expect(() => resolveServeConfig(flags, {})).toThrow(message);
  });

  it("serve options - eventbus serve takes repeated --cors-origin, the switch and the limits", async () => {
    const { url } = await serveCli([
      "--cors-origin",
      "https://a.example.test",
      "--cors-origin",
      "https://b.example.test",
      "--publish-rate",
      "1",
      "--max-stream-channels",
      "2",
    ]);
    for (const origin of ["https://a.example.test", "https://b.example.test"]) {
      const response = await fetch(`${url}/healthz`, { headers: { origin } });
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    }
    const path = `${url}/v1/projects/${uuid()}/events`;
    const event = { type: "issue.created", actor_type: "system" };
    expect((await postJson(path, event)).status).toBe(202);
    expect((await postJson(path, event)).status).toBe(429);
    const tooMany = await fetch(
      `${url}/v1/events?project=${uuid()}&agent=${uuid()}&agent=${uuid()}`,
    );
    expect(tooMany.status).toBe(400);
  });

  it("serve options - eventbus token --issuer --audience mints tokens a gateway checking iss and aud accepts", async () => {
    const project = uuid();
    const { url } = await startGateway({
      auth: { secret: SECRET, issuer: "https://ops.example.test", audience: "eventbus" },
    });
    const minted = await runCli(
      [
        "token",
        "--project",
        project,
        "--publish",
        "--issuer",
        "https://ops.example.test",
        "--audience",
        "eventbus",
      ],
      { EVENTBUS_JWT_SECRET: SECRET },
    );
    expect(minted.code).toBe(0);
    const path = `${url}/v1/projects/${project}/events`;
    const event = { type: "issue.created", actor_type: "system" };
    const accepted = await postJson(path, event, {
      authorization: `Bearer ${minted.stdout.trim()}`,
    });
    expect(accepted.status).toBe(202);
    const withoutClaims = await tokenFor({ projects: [project], publish: true });
    const refused = await postJson(path, event, { authorization: `Bearer ${withoutClaims}` });
    expect(refused.status).toBe(401);
  });
});
