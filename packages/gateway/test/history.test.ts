/**
 * The history routes on the in-memory bus and on a real redis-server: pages,
 * `since` and `limit`, every gap a client can meet, refusals, token scopes,
 * metrics, history off, and `eventbus serve`'s history flags.
 */
import { createEventBus, parsePosition } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { z } from "zod";
import { HistoryPageSchema } from "../src/http-schemas.js";
import type { GatewayOptions } from "../src/index.js";
import {
  postJson,
  publishMany,
  SECRET,
  serveCli,
  startGateway,
  tokenFor,
  uuid,
  waitFor,
} from "./support.js";

type Page = z.output<typeof HistoryPageSchema>;

/** The bound of every gateway here, small enough to trim in a test. */
const MAX_ENTRIES = 5;

let redis: RedisServer | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

/** GETs a history path (`query` appended as is); a 200 body is checked against the shared schema. */
async function read(
  url: string,
  path: string,
  query = "",
  headers: Record<string, string> = {},
): Promise<{ status: number; page: Page; error: { code: string; message: string } }> {
  const response = await fetch(`${url}${path}${query}`, { headers });
  const body = (await response.json()) as Record<string, unknown>;
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return {
    status: response.status,
    page: response.status === 200 ? HistoryPageSchema.parse(body) : (undefined as never),
    error: body.error as { code: string; message: string },
  };
}

const backends: [string, () => GatewayOptions][] = [
  ["memory", () => ({ history: { maxEntries: MAX_ENTRIES } })],
  ["redis", () => ({ url: redis?.url, history: { maxEntries: MAX_ENTRIES } })],
];

describe.each(backends)("history on %s", (_name, options) => {
  it("history - the latest events in order, with positions, the wire JSON and the current position", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    const ids = await publishMany(url, project, 3);
    const { status, page } = await read(url, `/v1/projects/${project}/history`);
    expect(status).toBe(200);
    expect(page.events.map(({ event }) => event.id)).toEqual(ids);
    expect(page.events.map(({ event }) => event.payload)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    const positions = page.events.map(({ position }) => parsePosition(position));
    expect(positions.map((position) => position.offset)).toEqual([1, 2, 3]);
    expect(parsePosition(page.current)).toEqual({ epoch: positions[0]?.epoch, offset: 3 });
    expect(page).toMatchObject({ more: false, complete: true });
    expect(page.gap).toBeUndefined();

    // A project nobody published to: no events, a current position to resume from.
    const empty = await read(url, `/v1/projects/${uuid()}/history`);
    expect(empty.page).toMatchObject({ events: [], more: false, complete: true });
    expect(parsePosition(empty.page.current).offset).toBe(0);
  });

  it("history - since a position gives what followed, limit pages through it", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    const ids = await publishMany(url, project, 4);
    const path = `/v1/projects/${project}/history`;
    const first = (await read(url, path, "?limit=1")).page;
    expect(first.events.map(({ event }) => event.id)).toEqual([ids[3]]);

    const start = (await read(url, path)).page.events[0]?.position ?? "";
    const page1 = (await read(url, path, `?since=${start}&limit=2`)).page;
    expect(page1.events.map(({ event }) => event.id)).toEqual([ids[1], ids[2]]);
    expect(page1).toMatchObject({ more: true, complete: true });
    const next = page1.events.at(-1)?.position ?? "";
    const page2 = (await read(url, path, `?since=${encodeURIComponent(next)}&limit=2`)).page;
    expect(page2.events.map(({ event }) => event.id)).toEqual([ids[3]]);
    expect(page2).toMatchObject({ more: false, complete: true });

    // From the current position: nothing yet, complete.
    const caughtUp = (await read(url, path, `?since=${page2.current}`)).page;
    expect(caughtUp).toMatchObject({ events: [], complete: true });
  });

  it("history - never complete when it is not: trimmed, foreign epoch, future, diverged", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    await publishMany(url, project, 2);
    const path = `/v1/projects/${project}/history`;
    const [oldest] = (await read(url, path)).page.events;
    await publishMany(url, project, MAX_ENTRIES + 1);

    const trimmed = (await read(url, path, `?since=${oldest?.position}`)).page;
    expect(trimmed).toMatchObject({ complete: false, gap: "trimmed" });
    expect(trimmed.events).toHaveLength(MAX_ENTRIES);

    const latest = parsePosition(trimmed.events.at(-1)?.position ?? "");
    const { epoch, offset } = latest;
    const other = epoch === "0000aaaa" ? "0000bbbb" : "0000aaaa";
    const wrong = latest.fingerprint === "00000000" ? "11111111" : "00000000";
    for (const [since, gap] of [
      [`${other}.${offset}`, "foreign-epoch"],
      [`${epoch}.${offset + 1}`, "future"],
      [`${epoch}.${offset}.${wrong}`, "diverged"],
    ] as const) {
      const { status, page } = await read(url, path, `?since=${since}`);
      expect(status, since).toBe(200);
      expect(page, since).toMatchObject({ events: [], complete: false, gap });
    }
  });

  it("history - the agent route reads the agent's channel", async () => {
    const { url } = await startGateway(options());
    const [agent, project] = [uuid(), uuid()];
    const response = await postJson(`${url}/v1/agents/${agent}/events`, {
      type: "agent.message",
      actor_type: "agent",
      actor_id: agent,
      project_id: project,
    });
    const published = (await response.json()) as { id: string };
    const { page } = await read(url, `/v1/agents/${agent}/history`);
    expect(page.events.map(({ event }) => event.id)).toEqual([published.id]);
    expect((await read(url, `/v1/projects/${project}/history`)).page.events).toEqual([]);
  });

  it("history - refuses a malformed since (EVENTBUS_INVALID_POSITION), a bad limit and a bad id", async () => {
    const { url } = await startGateway(options());
    const path = `/v1/projects/${uuid()}/history`;
    for (const since of [
      "",
      "17",
      uuid(),
      "abc.01",
      "abc.1.zz",
      "x".repeat(65),
      "a.9007199254740992",
    ]) {
      const { status, error } = await read(url, path, `?since=${encodeURIComponent(since)}`);
      expect([status, error.code], since).toEqual([400, "EVENTBUS_INVALID_POSITION"]);
    }
    for (const limit of ["0", "-1", "1.5", "abc", "", "01", String(MAX_ENTRIES + 1), "1&limit=2"]) {
      const { status, error } = await read(url, path, `?limit=${limit}`);
      expect([status, error.code], limit).toEqual([400, "GATEWAY_INVALID_REQUEST"]);
    }
    const since = await read(url, path, "?since=a.1&since=a.2");
    expect([since.status, since.error.code]).toEqual([400, "GATEWAY_INVALID_REQUEST"]);
    const badId = await read(url, "/v1/projects/not-a-uuid/history");
    expect([badId.status, badId.error.code]).toEqual([400, "GATEWAY_INVALID_REQUEST"]);
  });
});

describe("history - Redis outage", () => {
  it("history - while Redis is down a read answers 503 without the server's address, and reads again once it is back", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const bus = createEventBus(own.url, {
      history: { maxEntries: MAX_ENTRIES },
      redis: { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, publishTimeoutMs: 300 },
    });
    onTestFinished(() => bus.close());
    const { url } = await startGateway({ bus, history: { maxEntries: MAX_ENTRIES } });
    const project = uuid();
    await publishMany(url, project, 2);
    const path = `/v1/projects/${project}/history`;

    await own.kill();
    const { status, error } = await read(url, path);
    expect(status).toBe(503);
    expect(["EVENTBUS_NOT_CONNECTED", "EVENTBUS_HISTORY_READ_FAILED"]).toContain(error.code);
    expect(error.message).not.toContain(String(own.port));

    // Persistence is off: the restarted server starts the channel's history anew.
    await own.restart();
    const page = await waitFor("a read once Redis is back", async () => {
      const answer = await read(url, path);
      return answer.status === 200 && answer.page;
    });
    expect(page).toMatchObject({ events: [], complete: true });
  });
});

describe("history - access, metrics, history off", () => {
  it("history - read under the stream's scopes: header, ?access_token= or cookie granting the channel", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const [project, agent] = [uuid(), uuid()];
    const token = await tokenFor({ projects: [project], agents: [agent] });
    const path = `/v1/projects/${project}/history`;
    expect((await read(url, path, "", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await read(url, path, `?access_token=${token}`)).status).toBe(200);
    expect((await read(url, path, "", { cookie: `eventbus_token=${token}` })).status).toBe(200);
    expect((await read(url, `/v1/agents/${agent}/history?access_token=${token}`)).status).toBe(200);

    const anonymous = await read(url, path);
    expect([anonymous.status, anonymous.error.code]).toEqual([401, "GATEWAY_UNAUTHORIZED"]);
    for (const other of [`/v1/projects/${uuid()}/history`, `/v1/agents/${uuid()}/history`]) {
      const refused = await read(url, other, `?access_token=${token}`);
      expect([refused.status, refused.error.code]).toEqual([403, "GATEWAY_FORBIDDEN"]);
    }
  });

  it("history - eventbus_history_reads_total counts complete, incomplete and invalid reads", async () => {
    const { url } = await startGateway();
    const project = uuid();
    await publishMany(url, project, 1);
    const path = `/v1/projects/${project}/history`;
    const { page } = await read(url, path);
    await read(url, path, `?since=${page.current}`);
    await read(url, path, "?since=0000aaaa.1");
    await read(url, path, "?since=nope");
    await read(url, path, "?limit=0");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('eventbus_history_reads_total{outcome="complete"} 2');
    expect(metrics).toContain('eventbus_history_reads_total{outcome="incomplete"} 1');
    expect(metrics).toContain('eventbus_history_reads_total{outcome="invalid"} 2');
  });

  it("history - a gateway without history answers 404 EVENTBUS_HISTORY_DISABLED, and still publishes", async () => {
    const { url } = await startGateway({ history: false });
    const project = uuid();
    await publishMany(url, project, 1);
    const { status, error } = await read(url, `/v1/projects/${project}/history`);
    expect(status).toBe(404);
    expect(error).toEqual({
      code: "EVENTBUS_HISTORY_DISABLED",
      message: expect.stringContaining("keeps no history"),
    });
  });

  it("history - eventbus serve keeps history by default, bounded by --history-max-entries, none with --no-history", async () => {
    const project = uuid();
    const bounded = await serveCli(["--history-max-entries", "2"]);
    await publishMany(bounded.url, project, 3);
    const path = `/v1/projects/${project}/history`;
    const { page } = await read(bounded.url, path);
    expect(page.events.map(({ event }) => event.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await read(bounded.url, path, "?limit=3")).status).toBe(400);
    const described = await (await fetch(`${bounded.url}/openapi.json`)).json();
    const limit = described.paths["/v1/projects/{projectId}/history"].get.parameters.find(
      (parameter: { name: string }) => parameter.name === "limit",
    );
    expect(limit.schema).toEqual({ type: "integer", minimum: 1, maximum: 2 });

    const off = await serveCli(["--no-history"]);
    expect((await read(off.url, path)).status).toBe(404);
  });
});
