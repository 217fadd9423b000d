import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { Access, ANY, readGrant } from "../src/access.js";
import { Authenticator, tokenOf } from "../src/auth.js";
import {
  ConfigError,
  ForbiddenError,
  GatewayErrorCode,
  mintToken,
  TokenExpiredError,
  UnauthorizedError,
} from "../src/index.js";
import { SECRET, uuid } from "./support.js";

const projectA = uuid();
const projectB = uuid();
const agent = uuid();

function grant(fields: { projects?: string[]; agents?: string[]; publish?: boolean }) {
  const read = readGrant(fields);
  if ("problem" in read) throw new Error(read.problem);
  return read.grant;
}

describe("access - scope", () => {
  it("access - reads only the projects and agents it names", () => {
    const access = new Access(grant({ projects: [projectA.toUpperCase()], agents: [agent] }));
    expect(() => access.assertRead({ kind: "project", id: projectA })).not.toThrow();
    expect(() => access.assertRead({ kind: "agent", id: agent })).not.toThrow();
    expect(() => access.assertRead({ kind: "project", id: projectB })).toThrow(ForbiddenError);
    expect(() => access.assertRead({ kind: "agent", id: projectA })).toThrow(ForbiddenError);
  });

  it("access - publishes only with publish, and only where it may read", () => {
    const reader = new Access(grant({ projects: [projectA] }));
    expect(() => reader.assertPublish({ kind: "project", id: projectA })).toThrow(
      /does not grant publishing/,
    );
    const writer = new Access(grant({ projects: [projectA], publish: true }));
    expect(() => writer.assertPublish({ kind: "project", id: projectA })).not.toThrow();
    expect(() => writer.assertPublish({ kind: "project", id: projectB })).toThrow(ForbiddenError);
  });

  it("access - * grants every project or agent of its kind", () => {
    const access = new Access(grant({ projects: [ANY] }));
    expect(access.covers({ kind: "project", id: projectB })).toBe(true);
    expect(access.covers({ kind: "agent", id: agent })).toBe(false);
  });

  it("access - a grant with a non-UUID or a wrong type says which field", () => {
    const read = readGrant({ projects: ["nope"], publish: "yes" });
    expect("problem" in read && read.problem).toMatch(/eventbus\.projects\.0: must be a UUID/);
    expect("problem" in read && read.problem).toMatch(/eventbus\.publish/);
  });
});

describe("auth - token sources", () => {
  const headers = (extra: Record<string, string>) => ({ ...extra });

  it("auth - takes a Bearer header first, then the query, then the cookie", () => {
    const all = {
      headers: headers({ authorization: "Bearer h", cookie: "a=1; eventbus_token=c" }),
      queryToken: "q",
      allowQueryAndCookie: true,
    };
    expect(tokenOf(all)).toBe("h");
    expect(tokenOf({ ...all, headers: headers({ cookie: "eventbus_token=c" }) })).toBe("q");
    expect(
      tokenOf({
        ...all,
        headers: headers({ cookie: "x=1; eventbus_token=c%2E" }),
        queryToken: undefined,
      }),
    ).toBe("c.");
  });

  it("auth - ignores query and cookie where they are not allowed", () => {
    expect(
      tokenOf({
        headers: headers({ cookie: "eventbus_token=c" }),
        queryToken: "q",
        allowQueryAndCookie: false,
      }),
    ).toBeUndefined();
  });

  it("auth - refuses an Authorization header that is not Bearer", () => {
    expect(() =>
      tokenOf({
        headers: headers({ authorization: "Basic dTpw" }),
        queryToken: undefined,
        allowQueryAndCookie: true,
      }),
    ).toThrow(UnauthorizedError);
  });
});

describe("auth - verification", () => {
  const authenticator = new Authenticator({ secret: SECRET });

  it("auth - off without keys: every request is unrestricted", async () => {
    const off = new Authenticator();
    expect(off.enabled).toBe(false);
    expect(await off.verify(undefined)).toBe(Access.UNRESTRICTED);
  });

  it("auth - a minted HS256 token grants what it names and expires when it says", async () => {
    const token = await mintToken({
      projects: [projectA],
      publish: true,
      ttlSeconds: 60,
      secret: SECRET,
    });
    const access = await authenticator.verify(token);
    expect(access.grant).toEqual({ projects: [projectA], agents: [], publish: true });
    expect(access.expiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it("auth - refuses a missing token, garbage, a wrong secret and a missing exp", async () => {
    await expect(authenticator.verify(undefined)).rejects.toThrow(UnauthorizedError);
    await expect(authenticator.verify("not.a.jwt")).rejects.toThrow(UnauthorizedError);
    const other = await mintToken({
      projects: [projectA],
      ttlSeconds: 60,
      secret: `${SECRET}-other`,
    });
    await expect(authenticator.verify(other)).rejects.toThrow(/signature/);
    const noExp = await new SignJWT({ eventbus: { projects: [projectA] } })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET));
    await expect(authenticator.verify(noExp)).rejects.toThrow(/exp/);
  });

  it("auth - refuses an expired token with its own code", async () => {
    const expired = await new SignJWT({ eventbus: { projects: [projectA] } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const error = await authenticator.verify(expired).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as TokenExpiredError).code).toBe(GatewayErrorCode.TOKEN_EXPIRED);
  });

  it("auth - refuses a token whose grant is malformed", async () => {
    const bad = await new SignJWT({ eventbus: { projects: "all" } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    await expect(authenticator.verify(bad)).rejects.toThrow(/eventbus\.projects/);
  });

  it("auth - verifies tokens signed with the private half of a configured public key", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const withKey = new Authenticator({
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const token = await mintToken({
      agents: [agent],
      ttlSeconds: 60,
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    expect((await withKey.verify(token)).covers({ kind: "agent", id: agent })).toBe(true);
    // An HS256 token is refused where only a public key is configured (no algorithm confusion).
    const hs = await mintToken({ agents: [agent], ttlSeconds: 60, secret: SECRET });
    await expect(withKey.verify(hs)).rejects.toThrow(UnauthorizedError);
  });

  it("auth - refuses a secret shorter than 32 bytes and a key that is not PEM", () => {
    expect(() => new Authenticator({ secret: "short" })).toThrow(ConfigError);
    expect(() => new Authenticator({ publicKey: "nope" })).toThrow(ConfigError);
  });

  it("token - refuses no key or two, a bad ttl and a bad id", async () => {
    await expect(mintToken({ projects: [projectA], ttlSeconds: 60 })).rejects.toThrow(ConfigError);
    await expect(
      mintToken({ projects: [projectA], ttlSeconds: 0, secret: SECRET }),
    ).rejects.toThrow(/ttl/);
    await expect(mintToken({ projects: ["nope"], ttlSeconds: 60, secret: SECRET })).rejects.toThrow(
      /must be a UUID/,
    );
  });
});
