import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";
import { Authenticator } from "../src/auth.js";
import { Access, createGateway, TokenExpiredError, UnauthorizedError } from "../src/index.js";
import { SECRET, uuid } from "./support.js";

const base64url = (text: string): string => Buffer.from(text).toString("base64url");

/** A JWT of any header and payload (any JSON, not only objects), signed HS256 with `secret`. */
function signRaw(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
const project = uuid();

/** A time claim: sensible, past, absurd, fractional, or not a number at all. */
const timeClaim = fc.oneof(
  fc.integer({ min: 60, max: 86_400 }).map((ahead) => now() + ahead),
  fc.integer({ min: 1, max: 86_400 }).map((ago) => now() - ago),
  fc.constantFrom(1e308, -1e308, 8.64e12, 8.64e12 + 1, 253_402_300_800, 2 ** 53, 0, -1),
  fc.double(),
  fc.jsonValue(),
);

/** A time claim that passes: now or later for `exp`, earlier for `nbf` and `iat`. */
const future = fc.integer({ min: 60, max: 86_400 }).map((ahead) => now() + ahead);
const past = fc.integer({ min: 0, max: 86_400 }).map((ago) => now() - ago);

const grantClaim = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      projects: fc.subarray([project, "*"]),
      agents: fc.array(fc.uuid(), { maxLength: 2 }),
      publish: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        projects: fc.array(fc.oneof(fc.constant(project), fc.constant("*"), fc.string())),
        agents: fc.array(fc.oneof(fc.uuid(), fc.jsonValue())),
        publish: fc.oneof(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);

/**
 * Claims sets: mostly a valid token with its times or grant perturbed, else
 * any object of claims, else any JSON at all.
 */
const claims = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        exp: fc.oneof({ weight: 3, arbitrary: future }, { weight: 1, arbitrary: timeClaim }),
        nbf: fc.oneof({ weight: 3, arbitrary: past }, { weight: 1, arbitrary: timeClaim }),
        iat: fc.oneof({ weight: 3, arbitrary: past }, { weight: 1, arbitrary: timeClaim }),
        eventbus: grantClaim,
      },
      { requiredKeys: ["exp", "eventbus"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { exp: timeClaim, nbf: timeClaim, iat: timeClaim, eventbus: grantClaim, sub: fc.jsonValue() },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);

const header = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ alg: "HS256", typ: "JWT" }) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        alg: fc.oneof(fc.constantFrom("none", "RS256", "HS512"), fc.jsonValue()),
        crit: fc.jsonValue(),
        b64: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);

/** Strings shaped like tokens, or not at all. */
const tokenText = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.array(fc.base64String(), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(".")),
  fc
    .tuple(fc.jsonValue(), fc.jsonValue(), fc.string())
    .map(([h, p, s]) => `${base64url(JSON.stringify(h))}.${base64url(JSON.stringify(p))}.${s}`),
);

const authenticator = new Authenticator({ secret: SECRET });

/** What verifying `token` came to: an access with a real expiry, or a typed refusal. */
async function outcome(token: string): Promise<"access" | "refused"> {
  try {
    const access = await authenticator.verify(token);
    expect(access).toBeInstanceOf(Access);
    expect(Number.isFinite(access.expiresAt?.getTime())).toBe(true);
    expect(access.expiresAt?.getTime()).toBeGreaterThan(Date.now() - 1000);
    return "access";
  } catch (error) {
    expect([UnauthorizedError, TokenExpiredError]).toContainEqual((error as object).constructor);
    return "refused";
  }
}

describe("auth - fuzzed tokens", () => {
  it("auth - refuses exp, nbf or iat beyond what a Date holds, with 401", async () => {
    for (const claim of ["exp", "iat"] as const) {
      for (const seconds of [1e308, 8.64e12 + 1, 253_402_300_800]) {
        const token = signRaw(
          { alg: "HS256" },
          { exp: now() + 60, [claim]: seconds, eventbus: { projects: [project] } },
        );
        const error = await authenticator.verify(token).catch((caught: unknown) => caught);
        expect(error, `${claim} ${seconds}`).toBeInstanceOf(UnauthorizedError);
        expect((error as Error).message).toContain(`"${claim}"`);
      }
    }
    const nbf = signRaw({ alg: "HS256" }, { exp: now() + 60, nbf: 1e308, eventbus: {} });
    await expect(authenticator.verify(nbf)).rejects.toThrow(UnauthorizedError);
  });

  it("auth - any claims, signed: an access with a real expiry or a typed refusal (fast-check)", async () => {
    const seen = { access: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(header, claims, async (h, c) => {
        seen[await outcome(signRaw(h, c))]++;
      }),
      { numRuns: 500 },
    );
    // Both kinds of outcome were reached, so each was checked.
    expect(seen.access).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it("auth - any string as a token: a typed refusal, never another error (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(tokenText, async (token) => {
        expect(await outcome(token)).toBe("refused");
      }),
      { numRuns: 500 },
    );
  });

  it("auth - any token on the publish and stream routes answers 2xx or a documented 4xx, never 5xx (fast-check)", async () => {
    const gateway = createGateway({ auth: { secret: SECRET }, logLevel: "silent" });
    onTestFinished(() => gateway.close());
    const token = fc.oneof(
      fc.tuple(header, claims).map(([h, c]) => signRaw(h, c)),
      tokenText,
    );
    await fc.assert(
      fc.asyncProperty(token, fc.boolean(), async (jwt, publish) => {
        const response = await gateway.app.inject(
          publish
            ? {
                method: "POST",
                url: `/v1/projects/${project}/events`,
                headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
                payload: { type: "issue.created", actor_type: "system" },
              }
            : // A stream with an unknown type in ?types=: once the token passes, a 400, not a stream held open.
              {
                method: "GET",
                url: `/v1/projects/${project}/events?types=none&access_token=${encodeURIComponent(jwt)}`,
              },
        );
        expect([202, 400, 401, 403]).toContain(response.statusCode);
        if (response.statusCode !== 202) {
          const body = response.json();
          expect(Object.keys(body)).toEqual(["error"]);
          expect(body.error).toMatchObject({
            code: expect.any(String),
            message: expect.any(String),
          });
          expect(["code", "message", "issues"]).toEqual(
            expect.arrayContaining(Object.keys(body.error)),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
