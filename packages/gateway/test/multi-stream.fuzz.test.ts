import { request } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channelsQuerySchema } from "../src/http-schemas.js";
import { SECRET, startGateway, tokenFor, waitFor } from "./support.js";

const MAX_CHANNELS = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Query values: mostly plausible (UUIDs in any case, type lists), often hostile. */
const value = fc.oneof(
  fc.uuid().map((id) => id.toUpperCase()),
  fc.uuid(),
  fc.constantFrom("", ",", "issue.created", "issue.created,,sprint.started", "*", "__proto__"),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);
const key = fc.constantFrom(
  "project",
  "agent",
  "types",
  "project[]",
  "agent[0]",
  "__proto__",
  "constructor",
  "access_token",
  "other",
);
const pairs = fc.oneof(
  // Plausible: a few channels and perhaps a filter, each part sometimes wrong.
  fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom("project", "agent"), fc.uuid()), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.tuple(key, value), { maxLength: 2 }),
    )
    .map(([channels, noise]) => [...channels, ...noise]),
  // Anything: up to 12 pairs of hostile keys and values.
  fc.array(fc.tuple(key, value), { maxLength: 12 }),
);
/** A query string, each key and value percent-encoded. */
const queryString = pairs.map((list) =>
  list.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"),
);

describe("multi-stream - fuzzed queries", () => {
  it("multi-stream - the channel query parser either yields 1..max distinct lowercase channels or issues, never throws", () => {
    const schema = channelsQuerySchema(MAX_CHANNELS);
    const raw = fc.dictionary(key, fc.oneof(value, fc.array(value, { maxLength: 6 })), {
      maxKeys: 6,
    });
    fc.assert(
      fc.property(fc.oneof(raw, fc.anything()), (query) => {
        const result = schema.safeParse(query);
        if (!result.success) {
          expect(result.error.issues.length).toBeGreaterThan(0);
          return;
        }
        const { channels } = result.data;
        expect(channels.length).toBeGreaterThanOrEqual(1);
        expect(channels.length).toBeLessThanOrEqual(MAX_CHANNELS);
        const labels = channels.map((c) => `${c.kind}:${c.id}`);
        expect(new Set(labels).size).toBe(labels.length);
        for (const channel of channels) expect(channel.id).toMatch(UUID);
      }),
      { numRuns: 2_000 },
    );
  });

  it("multi-stream - any query over HTTP answers 200, 400, 401 or 403, never 5xx and never hangs; nothing stays subscribed", async () => {
    const { url, gateway } = await startGateway({
      auth: { secret: SECRET },
      limits: { channelsPerStream: MAX_CHANNELS },
    });
    // Every project, no agent: a query naming an agent is refused (403).
    const token = await tokenFor({ projects: ["*"] });
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(queryString, fc.boolean(), async (query, withToken) => {
        // Answered within the deadline, or the request fails (a hang fails the property).
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(`${url}/v1/events?${query}`, {
            headers: withToken ? { authorization: `Bearer ${token}` } : {},
            signal: AbortSignal.timeout(5_000),
          });
          req.on("response", (response) => {
            resolve(response.statusCode ?? 0);
            req.destroy();
          });
          req.on("error", reject);
          req.end();
        });
        statuses.add(status);
        expect([200, 400, 401, 403]).toContain(status);
      }),
      { numRuns: 250 },
    );
    expect([...statuses].sort()).toEqual([200, 400, 401, 403]);
    await waitFor(
      "every fuzzed stream's channels to be released",
      () => gateway.bus.stats().channels === 0,
    );
  });
});
