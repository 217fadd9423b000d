import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EventType } from "@eventbus/core";
import fc from "fast-check";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from "jose";
import { describe, expect, it, onTestFinished } from "vitest";
import { type AuthOptions, GatewayErrorCode } from "../src/index.js";
import { Follower, postJson, SECRET, startGateway, tokenFor, uuid } from "./support.js";

const ISSUER = "https://id.example.test/realms/acme";
const AUDIENCE = "eventbus-gateway";
const CLAIM = "https://acme.example/eventbus";

/** A signing key of the identity provider, with the `kid` it publishes. */
interface ProviderKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function providerKey(kid: string, alg: "RS256" | "ES256" = "ES256"): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/**
 * An identity provider's JWKS endpoint on loopback: serves `keys` (changeable,
 * for rotations), or answers as `mode` says; counts the fetches.
 */
class JwksServer {
  keys: ProviderKey[] = [];
  mode: "keys" | "status-500" | "not-json" | "not-a-key-set" | "silent" = "keys";
  fetches = 0;
  url = "";
  readonly #server: Server;
  readonly #silent = new Set<ServerResponse>();

  private constructor() {
    this.#server = createServer((_request, response) => {
      this.fetches++;
      if (this.mode === "silent") {
        this.#silent.add(response);
        return;
      }
      const body = {
        keys: JSON.stringify({ keys: this.keys.map((key) => key.jwk) }),
        "status-500": "oops",
        "not-json": "<html>",
        "not-a-key-set": JSON.stringify({ hello: "world" }),
      }[this.mode];
      response.writeHead(this.mode === "status-500" ? 500 : 200, {
        "content-type": "application/json",
      });
      response.end(body);
    });
  }

  static async start(): Promise<JwksServer> {
    const server = new JwksServer();
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    const { port } = server.#server.address() as AddressInfo;
    server.url = `http://127.0.0.1:${port}/realms/acme/protocol/openid-connect/certs`;
    onTestFinished(() => server.stop());
    return server;
  }

  async stop(): Promise<void> {
    for (const response of this.#silent) response.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** A token as the provider issues it: its key and `kid`, our iss/aud, the grant in {@link CLAIM}. */
function providerToken(
  key: ProviderKey,
  grant: unknown,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, [CLAIM]: grant, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key.privateKey);
}

function authFor(jwks: JwksServer, more: Partial<AuthOptions> = {}): AuthOptions {
  return {
    jwks: { url: jwks.url, timeoutMs: 500 },
    issuer: ISSUER,
    audience: AUDIENCE,
    grantClaim: CLAIM,
    ...more,
  };
}

/**
 * A provider publishing one key (`k1`), a gateway trusting it, and a project
 * with a grant to read and publish it.
 */
async function trustedProvider() {
  const jwks = await JwksServer.start();
  const key = await providerKey("k1");
  jwks.keys = [key];
  const { url } = await startGateway({ auth: authFor(jwks) });
  const project = uuid();
  const path = `${url}/v1/projects/${project}/events`;
  return { jwks, key, url, project, path, grant: { projects: [project], publish: true } };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const issueCreated = { type: EventType.ISSUE_CREATED, actor_type: "system" };

/** A request that must be answered: a hang fails it after `ms`. */
const answered = (ms = 10_000) => ({ signal: AbortSignal.timeout(ms) });

describe("jwks - tokens from the identity provider", () => {
  it("jwks - a provider token opens streams and publishes; iss, aud and the grant claim are checked", async () => {
    const { jwks, key, path, grant } = await trustedProvider();

    const follower = new Follower(path, bearer(await providerToken(key, grant)));
    await follower.opened();
    const published = await postJson(path, issueCreated, bearer(await providerToken(key, grant)));
    expect(published.status).toBe(202);
    await follower.received(1);

    // The grant as JSON text, as providers whose mappers write strings send it.
    const asText = await providerToken(key, JSON.stringify(grant));
    expect((await postJson(path, issueCreated, bearer(asText))).status).toBe(202);

    for (const [claims, problem] of [
      [{ iss: "https://evil.example.test" }, /"iss"/],
      [{ aud: "another-app" }, /"aud"/],
      [{ [CLAIM]: undefined, eventbus: grant }, /https:\/\/acme\.example\/eventbus/],
    ] as const) {
      const response = await postJson(
        path,
        issueCreated,
        bearer(await providerToken(key, grant, claims)),
      );
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.error.code).toBe(GatewayErrorCode.UNAUTHORIZED);
      expect(body.error.message).toMatch(problem);
    }
    expect(jwks.fetches).toBe(1);
  });

  it("jwks - a shared secret still verifies its own tokens beside the provider's key set", async () => {
    const jwks = await JwksServer.start();
    const key = await providerKey("k1");
    jwks.keys = [key];
    const { url } = await startGateway({
      auth: { jwks: { url: jwks.url }, secret: SECRET },
    });
    const project = uuid();
    const path = `${url}/v1/projects/${project}/events`;
    const fromSecret = await tokenFor({ projects: [project], publish: true });
    const fromProvider = await new SignJWT({ eventbus: { projects: [project], publish: true } })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setExpirationTime("1h")
      .sign(key.privateKey);
    expect((await postJson(path, issueCreated, bearer(fromSecret))).status).toBe(202);
    expect((await postJson(path, issueCreated, bearer(fromProvider))).status).toBe(202);
  });

  it("jwks - key rotation: a new kid is fetched at once; a retired key stops working once the set is fetched without it", async () => {
    const jwks = await JwksServer.start();
    const [old, rotated] = [await providerKey("2026-01", "RS256"), await providerKey("2026-02")];
    jwks.keys = [old];
    const { url } = await startGateway({
      auth: authFor(jwks, { jwks: { url: jwks.url, cooldownMs: 0 } }),
    });
    const project = uuid();
    const path = `${url}/v1/projects/${project}/events`;
    const grant = { projects: [project], publish: true };
    expect(
      (await postJson(path, issueCreated, bearer(await providerToken(old, grant)))).status,
    ).toBe(202);
    expect(jwks.fetches).toBe(1);

    jwks.keys = [old, rotated];
    const byRotated = await providerToken(rotated, grant);
    expect((await postJson(path, issueCreated, bearer(byRotated))).status).toBe(202);
    expect(jwks.fetches).toBe(2);
    expect(
      (await postJson(path, issueCreated, bearer(await providerToken(old, grant)))).status,
    ).toBe(202);

    jwks.keys = [rotated];
    const byUnknown = await providerToken(await providerKey("never-published"), grant);
    expect((await postJson(path, issueCreated, bearer(byUnknown))).status).toBe(401);
    expect(jwks.fetches).toBe(3);
    const retired = await postJson(path, issueCreated, bearer(await providerToken(old, grant)));
    expect(retired.status).toBe(401);
    expect((await postJson(path, issueCreated, bearer(byRotated))).status).toBe(202);
  });

  it("jwks - unknown kids within the cooldown are refused without fetching the set again", async () => {
    const { jwks, key, path, grant } = await trustedProvider();
    expect(
      (await postJson(path, issueCreated, bearer(await providerToken(key, grant)))).status,
    ).toBe(202);
    const strangers = await Promise.all(
      Array.from({ length: 20 }, async (_, n) =>
        postJson(
          path,
          issueCreated,
          bearer(await providerToken({ ...key, kid: `forged-${n}` }, grant)),
        ),
      ),
    );
    expect(strangers.map((response) => response.status)).toEqual(Array(20).fill(401));
    expect(jwks.fetches).toBe(1);
  });
});

describe("jwks - an identity provider that cannot be reached", () => {
  it.each([
    ["answers 500", "status-500"],
    ["answers something that is not JSON", "not-json"],
    ["answers JSON that is not a key set", "not-a-key-set"],
    ["never answers", "silent"],
  ] as const)(
    "jwks - a key set that %s gives 503 GATEWAY_AUTH_UNAVAILABLE, then recovers",
    async (_what, mode) => {
      const jwks = await JwksServer.start();
      const key = await providerKey("k1");
      jwks.keys = [key];
      jwks.mode = mode;
      const { url } = await startGateway({ auth: authFor(jwks) });
      const project = uuid();
      const token = await providerToken(key, { projects: [project], publish: true });
      const path = `${url}/v1/projects/${project}/events`;

      const publish = await fetch(path, {
        method: "POST",
        headers: { ...bearer(token), "content-type": "application/json" },
        body: JSON.stringify(issueCreated),
        ...answered(),
      });
      expect(publish.status).toBe(503);
      expect((await publish.json()).error.code).toBe(GatewayErrorCode.AUTH_UNAVAILABLE);
      const stream = await fetch(`${path}?access_token=${token}`, answered());
      expect(stream.status).toBe(503);

      jwks.mode = "keys";
      expect((await postJson(path, issueCreated, bearer(token))).status).toBe(202);
    },
  );

  it("jwks - a key set on a port nobody listens on gives 503 at once", async () => {
    const jwks = await JwksServer.start();
    const key = await providerKey("k1");
    await jwks.stop();
    const { url } = await startGateway({ auth: authFor(jwks) });
    const project = uuid();
    const token = await providerToken(key, { projects: [project] });
    const response = await fetch(
      `${url}/v1/events?project=${project}&access_token=${token}`,
      answered(),
    );
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.error).toMatchObject({ code: GatewayErrorCode.AUTH_UNAVAILABLE });
    expect(body.error.message).toContain(new URL(jwks.url).origin);
  });
});

describe("jwks - fuzzed tokens", () => {
  it("jwks - no token, forged or signed with any claims, gets a 5xx or hangs", async () => {
    const jwks = await JwksServer.start();
    const keys = [await providerKey("k1"), await providerKey("k2", "RS256")];
    jwks.keys = keys;
    const { gateway } = await startGateway({ auth: authFor(jwks) });
    const project = uuid();
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

    const anyValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(1e308, -1, 0, Number.MAX_SAFE_INTEGER, "", "*", ISSUER, AUDIENCE),
    );
    /** Mostly the valid value, sometimes anything: most tokens are near-valid, so every check is reached. */
    const mostly = <T>(valid: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: anyValue, weight: 1 });
    /** Mostly absent (JSON leaves `undefined` out), sometimes anything. */
    const rarely = mostly(fc.constant(undefined));
    const claims = fc.record(
      {
        iss: mostly(fc.constant(ISSUER)),
        aud: mostly(fc.constantFrom(AUDIENCE, [AUDIENCE, "another-app"])),
        exp: mostly(
          fc.integer({ min: 60, max: 3600 }).map((s) => Math.floor(Date.now() / 1000) + s),
        ),
        nbf: rarely,
        [CLAIM]: mostly(
          fc.oneof(
            fc.record({
              projects: mostly(fc.constant([project])),
              agents: mostly(fc.array(fc.uuid())),
              publish: mostly(fc.boolean()),
            }),
            fc.constantFrom(JSON.stringify({ projects: [project], publish: true }), "{", "[]"),
          ),
        ),
      },
      { requiredKeys: ["iss", "aud", "exp", "nbf", CLAIM] },
    );
    const header = fc.record({
      kid: fc.oneof(
        { arbitrary: fc.constant("its own"), weight: 6 },
        { arbitrary: fc.constantFrom("k1", "k2", undefined, "", "../../etc"), weight: 1 },
        { arbitrary: anyValue, weight: 1 },
      ),
      typ: mostly(fc.constant("JWT")),
      crit: rarely,
      b64: rarely,
    });
    const signed = fc
      .tuple(fc.constantFrom(...keys), claims, header)
      .map(([key, payload, extra]) => ({ key, payload, extra }));
    const forged = fc.oneof(
      fc.stringMatching(/^[\x21-\x7e]{1,300}$/),
      fc
        .tuple(
          fc.oneof(
            header.map((h) => ({ alg: "ES256", ...h })),
            fc.record({ alg: fc.constantFrom("none", "HS256", "RS256", "ES512", "EdDSA", "nope") }),
            anyValue,
          ),
          claims,
          fc.string(),
        )
        .map(([h, p, signature]) => `${base64url(h)}.${base64url(p)}.${signature}`),
    );

    const check = async (token: string) => {
      const response = await gateway.app.inject({
        method: "POST",
        url: `/v1/projects/${project}/events`,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        payload: JSON.stringify(issueCreated),
      });
      expect([202, 400, 401, 403]).toContain(response.statusCode);
      expect(response.json().error?.code ?? "published").toMatch(/^(GATEWAY_|published)/);
    };

    await fc.assert(fc.asyncProperty(forged, check), { numRuns: 300 });
    await fc.assert(
      fc.asyncProperty(signed, async ({ key, payload, extra }) => {
        let token: string;
        try {
          token = await new SignJWT(payload as JWTPayload)
            .setProtectedHeader({
              ...extra,
              kid: extra.kid === "its own" ? key.kid : extra.kid,
              alg: key.alg,
            } as JWTHeaderParameters)
            .sign(key.privateKey);
        } catch {
          return; // jose refuses to sign some headers (crit, b64); nothing to send then.
        }
        await check(token);
      }),
      { numRuns: 150 },
    );
    expect(jwks.fetches).toBeLessThanOrEqual(2);
  });
});
