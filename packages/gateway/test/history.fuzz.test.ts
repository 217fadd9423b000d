/**
 * Generated queries against the history routes: the query parser never
 * throws, and over HTTP, on the in-memory bus and on a real redis-server
 * (where `since` reaches the read script), every answer is 200 with a page
 * or a documented 4xx, never a 5xx, never a hang.
 */
import { parsePosition } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBodySchema, HistoryPageSchema, historyQuerySchema } from "../src/http-schemas.js";
import type { GatewayOptions } from "../src/index.js";
import { postJson, SECRET, startGateway, tokenFor, uuid } from "./support.js";

const MAX_ENTRIES = 5;
/** Events published before the fuzzing: more than kept, so positions can be trimmed. */
const PUBLISHED = MAX_ENTRIES + 3;

let redis: RedisServer | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

/** Positions around the channel's own epoch: retained, trimmed, future, other epochs, malformed. */
function positions(epoch: string): fc.Arbitrary<string> {
  const offset = fc.oneof(
    fc.integer({ min: 0, max: PUBLISHED + 2 }).map(String),
    fc.constantFrom("9007199254740991", "9007199254740992", "01", "-1", "1e3", ""),
    fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  );
  const fingerprint = fc.oneof(
    fc.constant(""),
    fc.stringMatching(/^[0-9a-f]{8}$/).map((hex) => `.${hex}`),
    fc.string({ maxLength: 10 }).map((text) => `.${text}`),
  );
  const epochs = fc.oneof(
    fc.constant(epoch),
    fc.stringMatching(/^[0-9A-Za-z_-]{1,32}$/),
    fc.string({ maxLength: 40 }),
  );
  return fc.tuple(epochs, offset, fingerprint).map(([e, o, f]) => `${e}.${o}${f}`);
}

/** Query values: positions, limits near the bounds, hostile text. */
function values(epoch: string): fc.Arbitrary<string> {
  return fc.oneof(
    positions(epoch),
    fc.integer({ min: -2, max: MAX_ENTRIES + 2 }).map(String),
    fc.constantFrom("", "1.0", " 1", "0x2", "Infinity", "NaN", "__proto__", "1,2"),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
  );
}

const keys = fc.constantFrom(
  "since",
  "limit",
  "since[]",
  "limit[0]",
  "__proto__",
  "constructor",
  "access_token",
  "other",
);

/** A query string: mostly a position and a limit near the bounds, sometimes repeated or hostile keys. */
function queries(epoch: string): fc.Arbitrary<string> {
  const since = fc.oneof({ arbitrary: positions(epoch), weight: 4 }, values(epoch));
  const limit = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: MAX_ENTRIES + 1 }).map(String), weight: 3 },
    values(epoch),
  );
  return fc
    .oneof(
      {
        arbitrary: fc.tuple(
          fc.option(fc.tuple(fc.constant("since"), since), { nil: undefined }),
          fc.option(fc.tuple(fc.constant("limit"), limit), { nil: undefined }),
          fc.array(fc.tuple(keys, values(epoch)), { maxLength: 2 }),
        ),
        weight: 4,
      },
      fc.tuple(
        fc.constant(undefined),
        fc.constant(undefined),
        fc.array(fc.tuple(keys, values(epoch)), { maxLength: 8 }),
      ),
    )
    .map(([sincePair, limitPair, noise]) =>
      [sincePair, limitPair, ...noise]
        .filter((entry) => entry !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join("&"),
    );
}

describe("history fuzz - the query parser", () => {
  it("history fuzz - yields a limit from 1 to the bound and a string since, or issues; never throws", () => {
    const schema = historyQuerySchema(MAX_ENTRIES);
    const raw = fc.dictionary(
      keys,
      fc.oneof(values("e"), fc.array(values("e"), { maxLength: 3 })),
      {
        maxKeys: 4,
      },
    );
    fc.assert(
      fc.property(fc.oneof(raw, fc.anything()), (query) => {
        const result = schema.safeParse(query);
        if (!result.success) {
          expect(result.error.issues.length).toBeGreaterThan(0);
          return;
        }
        const { since, limit } = result.data;
        if (since !== undefined) expect(typeof since).toBe("string");
        if (limit !== undefined) {
          expect(Number.isInteger(limit)).toBe(true);
          expect(limit).toBeGreaterThanOrEqual(1);
          expect(limit).toBeLessThanOrEqual(MAX_ENTRIES);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

const backends: [string, () => GatewayOptions][] = [
  ["memory", () => ({})],
  ["redis", () => ({ url: redis?.url })],
];

describe.each(backends)("history fuzz - over HTTP on %s", (_name, options) => {
  it("history fuzz - any query answers 200 with a page or 400/401/403 in the error shape, never 5xx", async () => {
    const { url } = await startGateway({
      ...options(),
      auth: { secret: SECRET },
      history: { maxEntries: MAX_ENTRIES },
    });
    const project = uuid();
    const token = await tokenFor({ projects: [project], publish: true });
    const authorization = { authorization: `Bearer ${token}` };
    for (let i = 0; i < PUBLISHED; i++) {
      const response = await postJson(
        `${url}/v1/projects/${project}/events`,
        { type: "issue.created", actor_type: "system" },
        authorization,
      );
      expect(response.status).toBe(202);
    }
    const first = await fetch(`${url}/v1/projects/${project}/history`, { headers: authorization });
    const { epoch } = parsePosition(HistoryPageSchema.parse(await first.json()).current);
    // Mostly the channel with events, with the token: the reads that reach the bus.
    const paths = fc.oneof(
      { arbitrary: fc.constant(`/v1/projects/${project}/history`), weight: 6 },
      fc.constantFrom(
        `/v1/projects/${uuid()}/history`,
        `/v1/agents/${uuid()}/history`,
        `/v1/projects/${project.toUpperCase()}/history`,
        "/v1/projects/not-a-uuid/history",
      ),
    );
    const withToken = fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, fc.constant(false));

    const statuses = new Set<number>();
    // Per answer: the page's gap (or "complete"), or the refusal's code.
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(paths, queries(epoch), withToken, async (path, query, token) => {
        const response = await fetch(`${url}${path}?${query}`, {
          headers: token ? authorization : {},
          signal: AbortSignal.timeout(5_000),
        });
        statuses.add(response.status);
        expect([200, 400, 401, 403], `${path}?${query}`).toContain(response.status);
        const body: unknown = await response.json();
        if (response.status === 200) {
          const page = HistoryPageSchema.parse(body);
          const outcome = page.gap ?? "complete";
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        } else {
          const code = ErrorBodySchema.parse(body).error.code;
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        }
      }),
      { numRuns: 300 },
    );
    expect([...statuses].sort()).toEqual([200, 400, 401, 403]);
    // The generated queries reach complete pages, pages with a gap, and both kinds of 400.
    for (const outcome of ["complete", "EVENTBUS_INVALID_POSITION", "GATEWAY_INVALID_REQUEST"]) {
      expect(outcomes.get(outcome), outcome).toBeGreaterThan(0);
    }
    const gaps = ["trimmed", "foreign-epoch", "future", "diverged"];
    expect(gaps.some((gap) => (outcomes.get(gap) ?? 0) > 0)).toBe(true);
  });
});
