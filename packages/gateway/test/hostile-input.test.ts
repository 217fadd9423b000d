/**
 * Input built to hurt, on both ways in: HTTP bodies nested past the depth
 * bound or carrying prototype keys, and the same published raw on Redis,
 * where a stream must skip what is malformed and go on.
 */
import {
  createEvent,
  createEventBus,
  decodeEvent,
  type Event,
  EventType,
  encodeEvent,
  MAX_PAYLOAD_DEPTH,
} from "@eventbus/core";
import { nestedText } from "@eventbus/test-fuzz";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";
import {
  CliProcess,
  Follower,
  postJson,
  rawRedis,
  startGateway,
  uuid,
  waitFor,
} from "./support.js";

const TOO_DEEP = `must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`;

/** A gateway that is never listened on: requests go through `inject`. */
function injectable(): Gateway {
  const gateway = createGateway({ logLevel: "silent" });
  onTestFinished(() => gateway.close());
  return gateway;
}

function postText(gateway: Gateway, project: string, body: string) {
  return gateway.app.inject({
    method: "POST",
    url: `/v1/projects/${project}/events`,
    headers: { "content-type": "application/json" },
    payload: body,
  });
}

/** A publish body whose payload is the JSON text `payload`. */
const bodyWith = (payload: string): string =>
  `{"type":"issue.created","actor_type":"system","payload":${payload}}`;

/** A JSON object nesting `levels` levels, as text. */
const nested = (levels: number): string => `{"k":${nestedText(levels - 1, "1", "mixed")}}`;

describe("hostile input - nesting depth over HTTP", () => {
  it("publish - a payload nesting up to the bound is published; deeper is a 400 saying so, at any depth", async () => {
    const gateway = injectable();
    const project = uuid();
    const accepted = await postText(gateway, project, bodyWith(nested(MAX_PAYLOAD_DEPTH)));
    expect(accepted.statusCode).toBe(202);
    for (const levels of [MAX_PAYLOAD_DEPTH + 1, 100, 2_000, 100_000]) {
      const refused = await postText(gateway, project, bodyWith(nested(levels)));
      expect(refused.statusCode, `${levels} levels`).toBe(400);
      expect(refused.json(), `${levels} levels`).toEqual({
        error: {
          code: "EVENTBUS_VALIDATION",
          message: `invalid event: payload: ${TOO_DEEP}`,
          issues: [{ path: ["payload"], message: TOO_DEEP }],
        },
      });
    }
    expect(gateway.bus.stats().published).toBe(1);
  });

  it("publish - a body or any of its fields nested 100,000 deep is a 400, never a 500", async () => {
    const gateway = injectable();
    const project = uuid();
    const deep = nestedText(100_000, "1", "array");
    const whole = await postText(gateway, project, deep);
    expect(whole.statusCode).toBe(400);
    expect(whole.json().error.code).toBe("EVENTBUS_VALIDATION");
    for (const field of ["id", "type", "timestamp", "project_id", "actor_id", "actor_type"]) {
      const body = `{"type":"issue.created","actor_type":"system","${field}":${deep}}`;
      const response = await postText(gateway, project, body);
      expect(response.statusCode, field).toBe(400);
      expect(response.json().error.issues.map((issue: { path: string[] }) => issue.path)).toEqual([
        [field],
      ]);
    }
  });
});

describe("hostile input - prototype keys over HTTP", () => {
  it("publish - __proto__ and constructor.prototype keys are published as data, unchanged", async () => {
    const gateway = injectable();
    const project = uuid();
    const sub = gateway.bus.subscribe([gateway.bus.getProjectChannel(project)]);
    await sub.ready;
    const payload =
      '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":true}},"list":[{"__proto__":null}]}';
    const response = await postText(gateway, project, bodyWith(payload));
    expect(response.statusCode).toBe(202);
    expect(response.body).toContain(`"payload":${payload}`);
    const { value } = await sub.next();
    const delivered = (value as Event).payload;
    expect(JSON.stringify(delivered)).toBe(payload);
    expect(Object.getPrototypeOf(delivered)).toBe(Object.prototype);
    expect((delivered as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("publish - a __proto__ key at the top of the body is an unknown field, ignored", async () => {
    const gateway = injectable();
    const response = await postText(
      gateway,
      uuid(),
      '{"__proto__":{"type":"agent.spawned"},"type":"issue.created","actor_type":"system"}',
    );
    expect(response.statusCode).toBe(202);
    expect(decodeEvent(response.body).type).toBe("issue.created");
  });
});

describe("hostile input - raw messages on Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("stream - messages nested 100 and 100,000 deep, published raw, are skipped and counted; the stream goes on", async () => {
    const { gateway, url } = await startGateway({ url: redis.url });
    const project = uuid();
    const follower = new Follower(`${url}/v1/projects/${project}/events`);
    await follower.opened();
    const raw = await rawRedis(redis.url);

    const valid = encodeEvent(
      createEvent({ type: EventType.ISSUE_CREATED, project_id: project, actor_type: "system" }),
    );
    const channel = gateway.bus.getProjectChannel(project);
    for (const levels of [100, 100_000]) {
      await raw.publish(channel, valid.replace('"payload":{}', `"payload":${nested(levels)}`));
    }
    const next = await postJson(`${url}/v1/projects/${project}/events`, {
      type: "issue.closed",
      actor_type: "system",
    });
    const [received] = await follower.received(1);
    expect(received?.id).toBe((await next.json()).id);
    expect(follower.events).toHaveLength(1);
    expect(follower.endReasons).toEqual([]);
    expect(gateway.bus.stats().malformed).toBe(2);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("eventbus_malformed_messages_total 2");
  });

  it("tail - `tail --url redis://` skips a message nested 100 deep and prints the next event", async () => {
    const project = uuid();
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--json",
      "--count",
      "1",
      "--url",
      redis.url,
    ]);
    await tail.said(/following project/);
    const raw = await rawRedis(redis.url);
    const channel = `events:project:${project}`;
    const event = () =>
      createEvent({ type: EventType.ISSUE_CREATED, project_id: project, actor_type: "system" });
    await raw.publish(
      channel,
      encodeEvent(event()).replace('"payload":{}', `"payload":${nested(100)}`),
    );
    const next = event();
    await raw.publish(channel, encodeEvent(next));
    expect(await tail.exited).toBe(0);
    expect(decodeEvent(tail.stdout.trim()).id).toBe(next.id);
  });
});

describe("hostile input - events changed after delivery", () => {
  it("stream - an event that can no longer be encoded is skipped and logged once; the stream goes on", async () => {
    const bus = createEventBus();
    onTestFinished(() => bus.close());
    const lines: string[] = [];
    const { url } = await startGateway({
      bus,
      logLevel: "error",
      logStream: { write: (line) => lines.push(line) },
    });
    const project = uuid();
    const channel = bus.getProjectChannel(project);
    // Code sharing the bus that changes what it is handed: the bus shares each event, it does not
    // copy it. Subscribed first and push-style, it is handed each event before the gateway's stream.
    const meddler = bus.subscribe([channel]);
    await meddler.ready;
    meddler.consume({
      deliver: (delivery) => {
        if (delivery.kind === "event" && delivery.event.payload.poison === true)
          (delivery.event.payload as Record<string, unknown>).at = new Date();
        return true;
      },
      end: () => {},
    });
    const follower = new Follower(`${url}/v1/projects/${project}/events`);
    await follower.opened();

    const poisoned = createEvent({
      type: EventType.ISSUE_CREATED,
      project_id: project,
      actor_type: "system",
      payload: { poison: true },
    });
    const next = createEvent({
      type: EventType.ISSUE_CLOSED,
      project_id: project,
      actor_type: "system",
    });
    await bus.publish(channel, poisoned);
    await bus.publish(channel, next);
    const [received] = await follower.received(1);
    expect(received?.id).toBe(next.id);
    expect(follower.endReasons).toEqual([]);
    const skippedLines = () => lines.filter((line) => line.includes("event skipped"));
    const skipped = await waitFor(
      "the skip to be logged",
      () => skippedLines().length > 0 && skippedLines(),
    );
    expect(skipped).toHaveLength(1);
    expect(JSON.parse(skipped[0] ?? "{}")).toMatchObject({ level: 50, id: poisoned.id });
  });
});
