/**
 * SSE resume on the one-channel streams, on the in-memory bus and on a real
 * redis-server: `id:` is the position, `event: start` carries the channel's
 * position, `Last-Event-ID` and `?last_event_id=` resume without a gap or a
 * duplicate (an EventSource cut off and reconnecting included), and what
 * cannot be recovered is an `event: reload`.
 */
import { parsePosition } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { GatewayOptions } from "../src/index.js";
import {
  CuttableProxy,
  Follower,
  publishMany,
  RawStream,
  startGateway,
  uuid,
  waitFor,
} from "./support.js";

/** The bound of every gateway here, small enough to trim in a test. */
const MAX_ENTRIES = 5;

let redis: RedisServer | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

const streamOf = (url: string, project: string, query = "") =>
  `${url}/v1/projects/${project}/events${query}`;

/** The positions of the project's retained events, oldest first. */
async function positions(url: string, project: string): Promise<string[]> {
  const page = await (await fetch(`${url}/v1/projects/${project}/history`)).json();
  return (page as { events: { position: string }[] }).events.map((entry) => entry.position);
}

const backends: [string, () => GatewayOptions][] = [
  ["memory", () => ({ history: { maxEntries: MAX_ENTRIES } })],
  ["redis", () => ({ url: redis?.url, history: { maxEntries: MAX_ENTRIES } })],
];

describe.each(backends)("resume on %s", (_name, options) => {
  it("resume - a new stream starts with the channel's position; each event's id is its position", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    await publishMany(url, project, 2);
    const follower = new Follower(streamOf(url, project));
    await follower.started();
    const [start] = follower.starts;
    expect(start).toMatchObject({ since: null, replayed: 0 });
    expect(parsePosition(start?.position ?? "").offset).toBe(2);

    const ids = await publishMany(url, project, 2, 2);
    await follower.received(2);
    expect(follower.sequence).toEqual(["start", ...ids]);
    expect(follower.ids).toEqual((await positions(url, project)).slice(2));
  });

  it("resume - Last-Event-ID (or ?last_event_id=) replays what followed it, then start, then live, none twice", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    const ids = await publishMany(url, project, 4);
    const [, second] = await positions(url, project);
    for (const follower of [
      new Follower(streamOf(url, project), { "last-event-id": second ?? "" }),
      new Follower(streamOf(url, project, `?last_event_id=${second}`)),
      // The header wins: a reconnecting EventSource keeps the URL of its first connection.
      new Follower(streamOf(url, project, `?last_event_id=${uuid()}`), {
        "last-event-id": second ?? "",
      }),
    ]) {
      await follower.started();
      expect(follower.sequence).toEqual([ids[2], ids[3], "start"]);
      expect(follower.starts[0]).toMatchObject({ since: second, replayed: 2 });
      expect(follower.reloads).toEqual([]);
    }
    const catchUp = new Follower(streamOf(url, project), { "last-event-id": second ?? "" });
    await catchUp.started();
    const [live] = await publishMany(url, project, 1, 4);
    await catchUp.received(3);
    expect(catchUp.sequence).toEqual([ids[2], ids[3], "start", live]);
  });

  it("resume - an EventSource cut off resumes where it was: every event once, in order", async () => {
    const { url: gatewayUrl } = await startGateway({ ...options(), retryMs: 50 });
    const { proxy, url } = await CuttableProxy.start(gatewayUrl);
    const project = uuid();
    const follower = new Follower(streamOf(url, project));
    await follower.started();
    const before = await publishMany(gatewayUrl, project, 2);
    await follower.received(2);

    proxy.cut();
    await proxy.holding();
    const during = await publishMany(gatewayUrl, project, 3, 2);
    proxy.restore();
    await follower.started(2);
    const after = await publishMany(gatewayUrl, project, 1, 5);
    await follower.received(6);
    expect(follower.sequence).toEqual(["start", ...before, ...during, "start", ...after]);
    expect(follower.starts[1]).toMatchObject({ replayed: 3 });
    expect(proxy.connections).toBe(2);
    expect(follower.reloads).toEqual([]);
  });

  it("resume - what cannot be recovered is an event: reload, then start at the current position", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    await publishMany(url, project, 1);
    const [oldest] = await positions(url, project);
    await publishMany(url, project, MAX_ENTRIES + 1, 1);
    const current = (await positions(url, project)).at(-1) ?? "";
    const { epoch, offset } = parsePosition(current);
    const other = epoch === "0000aaaa" ? "0000bbbb" : "0000aaaa";

    for (const [resume, reason] of [
      [oldest, "trimmed"],
      [`${other}.1`, "foreign-epoch"],
      [`${epoch}.${offset + 5}`, "future"],
      [uuid(), "invalid-position"],
      ["", undefined],
    ] as const) {
      const follower = new Follower(streamOf(url, project), { "last-event-id": resume ?? "" });
      await follower.started();
      if (reason === undefined) {
        expect(follower.sequence, resume).toEqual(["start"]);
        continue;
      }
      expect(follower.sequence.at(-1), resume).toBe("start");
      expect(follower.sequence.slice(0, 1), resume).toEqual(["reload"]);
      const [reload] = follower.reloads;
      expect(reload, resume).toMatchObject({ reason });
      expect(parsePosition(reload?.position ?? "").offset).toBe(offset);
      // The reload's id is where the client resumes next time; it replays nothing in either case.
      expect(follower.starts[0]?.replayed).toBe(0);
    }
  });

  it("resume - ?types= applies to the replayed events too", async () => {
    const { url } = await startGateway(options());
    const project = uuid();
    const ids = await publishMany(url, project, 4);
    const [first] = await positions(url, project);
    const follower = new Follower(streamOf(url, project, "?types=issue.closed"), {
      "last-event-id": first ?? "",
    });
    await follower.started();
    expect(follower.sequence).toEqual([ids[1], ids[3], "start"]);
  });
});

describe("resume - Redis restarted without persistence", () => {
  it("resume - an open stream says reload (foreign-epoch) where the history was lost, then gets the new events", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const { url } = await startGateway({ url: own.url });
    const project = uuid();
    const before = await publishMany(url, project, 1);
    const follower = new Follower(streamOf(url, project));
    await follower.started();

    await own.kill();
    await waitFor("the outage", async () => (await fetch(`${url}/readyz`)).status === 503);
    await own.restart();
    await waitFor("the bus back", async () => (await fetch(`${url}/readyz`)).status === 200);
    const after = await publishMany(url, project, 2, 1);
    await follower.received(2);
    expect(follower.sequence).toEqual(["start", "reload", ...after]);
    expect(follower.reloads[0]).toMatchObject({ reason: "foreign-epoch" });
    expect(follower.events.map((event) => event.id)).not.toContain(before[0]);
  });
});

describe("resume - metrics", () => {
  it("resume - /metrics counts resumes by outcome and replayed events", async () => {
    const { url } = await startGateway();
    const project = uuid();
    await publishMany(url, project, 3);
    const [first] = await positions(url, project);
    for (const resume of [first ?? "", "0000aaaa.1"]) {
      const follower = new Follower(streamOf(url, project), { "last-event-id": resume });
      await follower.started();
      follower.source.close();
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('eventbus_resumes_total{outcome="complete"} 1');
    expect(metrics).toContain('eventbus_resumes_total{outcome="incomplete"} 1');
    expect(metrics).toContain("eventbus_events_replayed_total 2");
    // No live gap here: an incomplete resume counts as a resume, not as a gap.
    expect(metrics).toMatch(/^eventbus_gaps_total 0$/m);
    expect(metrics).toMatch(/^eventbus_backfills_total 0$/m);
  });
});

describe("resume - without history", () => {
  it("resume - a gateway without history sends no ids, no start, and ignores Last-Event-ID", async () => {
    const { url } = await startGateway({ history: false });
    const project = uuid();
    const stream = new RawStream(streamOf(url, project), { "last-event-id": "0000aaaa.1" });
    await stream.started();
    const [id] = await publishMany(url, project, 1);
    await stream.contains(id ?? "");
    expect(stream.text).toMatch(/^retry: \d+\n\nevent: issue\.created\ndata: \{[^\n]+\}\n\n$/);
  });
});

describe.each(backends)("multi-channel resume on %s", (_name, options) => {
  const multiOf = (url: string, projects: readonly string[]) =>
    `${url}/v1/events?${projects.map((project) => `project=${project}`).join("&")}`;

  it("multi-stream resume - every id is the resume vector; an EventSource cut off resumes each channel: every event once, in order", async () => {
    const { url: gatewayUrl } = await startGateway({ ...options(), retryMs: 50 });
    const { proxy, url } = await CuttableProxy.start(gatewayUrl);
    const [a, b] = [uuid(), uuid()];
    const follower = new Follower(multiOf(url, [a, b]), {}, { multiChannel: true });
    await follower.started(2);
    const first = [
      ...(await publishMany(gatewayUrl, a, 2)),
      ...(await publishMany(gatewayUrl, b, 1)),
    ];
    await follower.received(3);

    proxy.cut();
    await proxy.holding();
    const missedA = await publishMany(gatewayUrl, a, 2, 2);
    const missedB = await publishMany(gatewayUrl, b, 2, 1);
    proxy.restore();
    await follower.started(4);
    const after = [
      ...(await publishMany(gatewayUrl, a, 1, 4)),
      ...(await publishMany(gatewayUrl, b, 1, 3)),
    ];
    await follower.received(9);

    expect(follower.reloads).toEqual([]);
    expect(proxy.connections).toBe(2);
    const eventIds = follower.sequence.filter((item) => item !== "start");
    expect(eventIds).toHaveLength(9);
    expect(new Set(eventIds).size).toBe(9);
    const onChannel = (project: string) =>
      follower.events.filter((_, index) => follower.channels[index] === `project:${project}`);
    expect(onChannel(a).map((event) => event.id)).toEqual([
      ...first.slice(0, 2),
      ...missedA,
      after[0],
    ]);
    expect(onChannel(b).map((event) => event.id)).toEqual([first[2], ...missedB, after[1]]);
    // The last id names both channels at their last positions.
    const last = follower.ids.at(-1) ?? "";
    const [lastA] = (await positions(gatewayUrl, a)).slice(-1);
    const [lastB] = (await positions(gatewayUrl, b)).slice(-1);
    expect(last.split(",").sort()).toEqual(
      [`project:${a}=${lastA}`, `project:${b}=${lastB}`].sort(),
    );
  });

  it("multi-stream resume - a Last-Event-ID that is not this stream's vector: reload on each channel, then its start", async () => {
    const { url } = await startGateway(options());
    const [a, b] = [uuid(), uuid()];
    await publishMany(url, a, 1);
    for (const resume of [uuid(), `project:${uuid()}=0000aaaa.1`, "project:x"]) {
      const follower = new Follower(
        multiOf(url, [a, b]),
        { "last-event-id": resume },
        {
          multiChannel: true,
        },
      );
      await follower.started(2);
      expect(follower.sequence, resume).toEqual(["reload", "start", "reload", "start"]);
      expect(follower.reloads.map((reload) => reload.reason)).toEqual([
        "invalid-position",
        "invalid-position",
      ]);
    }
  });
});
