/**
 * Generated resume points (the `Last-Event-ID` header and `?last_event_id=`)
 * on a one-channel stream, on the in-memory bus and on a real redis-server
 * (where a position reaches the read script): the stream always opens, and
 * starts with `event: start`, after the replayed events or after an
 * `event: reload`; never a 5xx, never a stream that ends.
 */
import { request } from "node:http";
import { parsePosition } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../src/index.js";
import { postJson, startGateway, uuid, waitFor } from "./support.js";

const MAX_ENTRIES = 4;
const PUBLISHED = MAX_ENTRIES + 2;

let redis: RedisServer | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

/** Resume points: around the channel's own positions, other epochs, and any header-safe text. */
function resumePoints(epoch: string): fc.Arbitrary<string> {
  const position = fc
    .tuple(
      fc.oneof(fc.constant(epoch), fc.stringMatching(/^[0-9A-Za-z_-]{1,32}$/)),
      fc.oneof(
        fc.integer({ min: 0, max: PUBLISHED + 2 }).map(String),
        fc.constantFrom("9007199254740992", "01", "-1", ""),
      ),
      fc.oneof(
        fc.constant(""),
        fc.stringMatching(/^\.[0-9a-f]{8}$/),
        fc.string({ maxLength: 9 }).map((text) => `.${text}`),
      ),
    )
    .map(([e, offset, fingerprint]) => `${e}.${offset}${fingerprint}`);
  // Printable ASCII: what an HTTP header can carry.
  const text = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength: 80,
  });
  return fc.oneof({ arbitrary: position, weight: 3 }, text, fc.uuid());
}

/**
 * Opens the stream with `headers`, reads until its `starts`-th `event: start`
 * (or the end), and closes it; resolves with the status and the text.
 */
function openOnce(
  url: string,
  headers: Record<string, string>,
  starts = 1,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, signal: AbortSignal.timeout(5_000) });
    req.on("response", (response) => {
      let text = "";
      const done = (): void => {
        req.destroy();
        resolve({ status: response.statusCode ?? 0, text });
      };
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        const started = text.match(/^event: start\n(?:id: .*\n)?data: .*\n\n/gm)?.length ?? 0;
        if (started >= starts) done();
      });
      response.on("end", done);
    });
    req.on("error", reject);
    req.end();
  });
}

const backends: [string, () => GatewayOptions][] = [
  ["memory", () => ({})],
  ["redis", () => ({ url: redis?.url })],
];

/** Publishes {@link PUBLISHED} events (`payload.n` counting from 0) to `project` through the gateway at `url`. */
async function publishNumbered(url: string, project: string): Promise<void> {
  for (let n = 0; n < PUBLISHED; n++) {
    const response = await postJson(`${url}/v1/projects/${project}/events`, {
      type: "issue.created",
      actor_type: "system",
      payload: { n },
    });
    expect(response.status).toBe(202);
  }
}

describe.each(backends)("resume fuzz on %s", (_name, options) => {
  it("resume fuzz - any resume point opens the stream: replayed events or a reload, then start", async () => {
    const { url, gateway } = await startGateway({
      ...options(),
      history: { maxEntries: MAX_ENTRIES },
    });
    const project = uuid();
    const stream = `${url}/v1/projects/${project}/events`;
    await publishNumbered(url, project);
    const page = await (await fetch(`${url}/v1/projects/${project}/history`)).json();
    const { epoch } = parsePosition((page as { current: string }).current);

    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(resumePoints(epoch), fc.boolean(), async (resume, inQuery) => {
        const target = inQuery ? `${stream}?last_event_id=${encodeURIComponent(resume)}` : stream;
        const { status, text } = await openOnce(target, inQuery ? {} : { "last-event-id": resume });
        expect(status, resume).toBe(200);
        const names = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
        expect(names.at(-1), resume).toBe("start");
        const before = names.slice(0, -1);
        // Either a replay (events only) or a reload (nothing replayed).
        if (before.includes("reload")) expect(before, resume).toEqual(["reload"]);
        else
          expect(
            before.every((name) => name === "issue.created"),
            resume,
          ).toBe(true);
        seen.add(before.includes("reload") ? "reload" : before.length > 0 ? "replay" : "none");
      }),
      { numRuns: 150 },
    );
    // The generated points reach both kinds of answer (a resume at the top, replaying nothing, is rare).
    expect(seen).toContain("reload");
    expect(seen).toContain("replay");
    await waitFor("every fuzzed stream to be released", () => gateway.bus.stats().channels === 0);
  });
});

describe.each(backends)("multi-channel resume fuzz on %s", (_name, options) => {
  it("resume fuzz - any resume point of a multi-channel stream opens it: per channel, replayed events or a reload, then start", async () => {
    const { url, gateway } = await startGateway({
      ...options(),
      history: { maxEntries: MAX_ENTRIES },
    });
    const [a, b] = [uuid(), uuid()];
    for (const project of [a, b]) await publishNumbered(url, project);
    const page = await (await fetch(`${url}/v1/projects/${a}/history`)).json();
    const { epoch } = parsePosition((page as { current: string }).current);
    const label = fc.constantFrom(
      `project:${a}`,
      `project:${b}`,
      `project:${uuid()}`,
      "agent:x",
      "",
    );
    const vector = fc
      .array(fc.tuple(label, resumePoints(epoch)), { minLength: 1, maxLength: 3 })
      .map((parts) => parts.map(([name, position]) => `${name}=${position}`).join(","));
    const stream = `${url}/v1/events?project=${a}&project=${b}`;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(vector, resumePoints(epoch)),
        fc.boolean(),
        async (resume, inQuery) => {
          const target = inQuery ? `${stream}&last_event_id=${encodeURIComponent(resume)}` : stream;
          const headers: Record<string, string> = inQuery ? {} : { "last-event-id": resume };
          const { status, text } = await openOnce(target, headers, 2);
          expect(status, resume).toBe(200);
          const names = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
          expect(
            names.filter((name) => name === "start"),
            resume,
          ).toHaveLength(2);
          expect(names.at(-1), resume).toBe("start");
          expect(
            names.every((name) => ["start", "reload", "issue.created"].includes(name as string)),
            resume,
          ).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
    await waitFor("every fuzzed stream to be released", () => gateway.bus.stats().channels === 0);
  });
});
