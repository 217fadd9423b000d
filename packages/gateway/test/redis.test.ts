import { connect } from "node:net";
import { createEventBus, decodeEvent, type EventBus } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  CliProcess,
  Follower,
  postJson,
  RawStream,
  runCli,
  serveCli,
  startGateway,
  uuid,
  waitFor,
} from "./support.js";

/** Redis settings that notice and recover from an outage within a test's patience. */
const FAST_REDIS = {
  reconnectInitialDelayMs: 20,
  reconnectMaxDelayMs: 200,
  publishTimeoutMs: 300,
  connectTimeoutMs: 2_000,
} as const;

/** A bus on `url` with {@link FAST_REDIS}, closed after the test. */
function fastBus(url: string): EventBus {
  const bus = createEventBus(url, { redis: FAST_REDIS });
  onTestFinished(() => bus.close());
  return bus;
}

/** Log lines written by a gateway, kept as they come. */
function capturedLog(): {
  lines: () => Record<string, unknown>[];
  stream: { write(line: string): void };
} {
  let text = "";
  return {
    lines: () =>
      text
        .trim()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stream: {
      write: (line: string) => {
        text += line;
      },
    },
  };
}

/** PUBLISHes `message` on `channel` as is, over a raw connection: what another service could put there. */
function publishRaw(port: number, channel: string, message: string): Promise<void> {
  const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("error", reject);
    socket.once("data", () => {
      socket.destroy();
      resolve();
    });
    socket.write(`*3\r\n${bulk("PUBLISH")}${bulk(channel)}${bulk(message)}`);
  });
}

const eventsOf = (url: string, project: string) => `${url}/v1/projects/${project}/events`;

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe("redis - gateways on one Redis", () => {
  it("redis - two gateway processes: publish on one, receive on the other, in order, both ways", async () => {
    const [first, second] = await Promise.all([
      serveCli(["--url", redis.url]),
      serveCli(["--url", redis.url]),
    ]);
    expect(first.cli.stdout).toContain("(bus: Redis)");
    const project = uuid();
    const onSecond = new Follower(eventsOf(second.url, project));
    const onFirst = new Follower(eventsOf(first.url, project));
    await Promise.all([onSecond.opened(), onFirst.opened()]);

    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const gateway = n % 2 === 0 ? first.url : second.url;
      const response = await postJson(eventsOf(gateway, project), {
        type: "issue.updated",
        actor_type: "system",
        payload: { n },
      });
      expect(response.status).toBe(202);
      ids.push((await response.json()).id);
    }
    expect((await onSecond.received(5)).map((event) => event.id)).toEqual(ids);
    expect((await onFirst.received(5)).map((event) => event.id)).toEqual(ids);
  });

  it("redis - tail and publish straight on Redis meet a gateway on the same Redis", async () => {
    const { url } = await startGateway({ url: redis.url });
    const project = uuid();
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--json",
      "--count",
      "2",
      "--url",
      redis.url,
    ]);
    await tail.said(/following project/);
    const follower = new Follower(eventsOf(url, project));
    await follower.opened();

    const viaGateway = await postJson(eventsOf(url, project), {
      type: "sprint.started",
      actor_type: "system",
    });
    const viaRedis = await runCli([
      "publish",
      "--project",
      project,
      "--type",
      "sprint.completed",
      "--url",
      redis.url,
    ]);
    expect(viaRedis.code).toBe(0);
    expect(await tail.exited).toBe(0);
    const tailed = tail.stdout.trim().split("\n").map(decodeEvent);
    expect(tailed.map((event) => event.type)).toEqual(["sprint.started", "sprint.completed"]);
    expect(tailed[0]?.id).toBe((await viaGateway.json()).id);
    expect(tailed[1]?.id).toBe(decodeEvent(viaRedis.stdout.trim()).id);
    expect((await follower.received(2)).map((event) => event.type)).toEqual([
      "sprint.started",
      "sprint.completed",
    ]);
  });
});

describe("redis - outages", () => {
  it("redis - /readyz follows the connection; open streams survive a Redis restart", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const { url } = await startGateway({ url: own.url });
    const project = uuid();
    const follower = new Follower(eventsOf(url, project));
    await follower.opened();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    await own.kill();
    await waitFor(
      "readyz to report the outage",
      async () => (await fetch(`${url}/readyz`)).status === 503,
    );
    await own.restart();
    await waitFor(
      "readyz to report the reconnection",
      async () => (await fetch(`${url}/readyz`)).status === 200,
    );

    const response = await postJson(eventsOf(url, project), {
      type: "issue.closed",
      actor_type: "system",
    });
    expect(response.status).toBe(202);
    const [received] = await follower.received(1);
    expect(received?.type).toBe("issue.closed");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("eventbus_transport_disconnects_total 1");
    expect(metrics).toContain("eventbus_transport_reconnects_total 1");
  });
});

describe("redis - outages are told to the people watching", () => {
  it("redis - open streams hear the bus go and come back; new streams get 503; nothing names Redis; readyz logs nothing", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const log = capturedLog();
    const { url } = await startGateway({
      bus: fastBus(own.url),
      logLevel: "info",
      logStream: log.stream,
    });
    const project = uuid();
    const stream = new RawStream(eventsOf(url, project));
    expect((await stream.started()).statusCode).toBe(200);

    await own.kill();
    await stream.contains("event: disconnected\n");
    const address = `:${own.port}`;
    // A new stream, of a channel already followed or not, is refused while the bus is down.
    for (const channelOf of [project, uuid()]) {
      const refused = await fetch(eventsOf(url, channelOf));
      expect(refused.status).toBe(503);
      const body = await refused.text();
      expect(JSON.parse(body).error.code).toBe("GATEWAY_NOT_READY");
      expect(body).not.toContain(address);
    }
    const publish = await postJson(eventsOf(url, project), {
      type: "issue.closed",
      actor_type: "system",
    });
    expect(publish.status).toBe(503);
    const publishBody = await publish.text();
    expect(JSON.parse(publishBody).error.code).toBe("EVENTBUS_NOT_CONNECTED");
    expect(publishBody).not.toContain(address);
    for (let probe = 0; probe < 5; probe++) {
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).not.toContain(address);
    }

    await own.restart();
    await stream.contains("event: reconnected\n");
    const reconnected = /event: reconnected\ndata: (.*)\n/.exec(stream.text)?.[1] ?? "{}";
    expect(JSON.parse(reconnected)).toMatchObject({
      at: expect.any(String),
      downtime_ms: expect.any(Number),
      message: expect.stringContaining("may have been lost"),
    });
    expect(JSON.parse(reconnected).downtime_ms).toBeGreaterThan(0);
    const disconnected = /event: disconnected\ndata: (.*)\n/.exec(stream.text)?.[1] ?? "{}";
    expect(JSON.parse(disconnected)).toMatchObject({ at: expect.any(String) });
    expect(stream.text).not.toContain(address);

    // The same stream goes on, and new streams open again.
    const after = await postJson(eventsOf(url, project), {
      type: "issue.closed",
      actor_type: "system",
    });
    expect(after.status).toBe(202);
    await stream.contains("event: issue.closed\n");
    const again = new Follower(eventsOf(url, project));
    await again.opened();

    // The log has the outage once, no stack, and nothing per probe.
    const lines = log.lines();
    const outage = lines.filter((line) => line.msg === "bus disconnected");
    expect(outage).toHaveLength(1);
    // Why, in words: an Error logged as a field would be `{}`.
    expect(outage[0]?.connection).toMatchObject({
      state: "disconnected",
      error: { name: expect.any(String), message: expect.stringMatching(/\w/) },
    });
    expect(lines.filter((line) => line.msg === "bus reconnected")).toHaveLength(1);
    expect(lines.filter((line) => JSON.stringify(line).includes("/readyz"))).toEqual([]);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
    expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
  });

  it("redis - tail through a gateway and tail --url redis:// both say when the bus is down and back", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const { url } = await startGateway({ bus: fastBus(own.url) });
    const project = uuid();
    const viaGateway = new CliProcess(["tail", "--project", project, "--url", url]);
    const viaRedis = new CliProcess(["tail", "--project", project, "--url", own.url]);
    await Promise.all([
      viaGateway.said(/following project/, 20_000),
      viaRedis.said(/following project/, 20_000),
    ]);

    await own.kill();
    await viaGateway.said(
      /the gateway lost its bus at \S+Z: events published until it is back may be lost/,
    );
    await viaRedis.said(/lost the connection to the bus at \S+Z.*may be lost/);
    await own.restart();
    await viaGateway.said(
      /the gateway's bus is back after \d+ ms: events published meanwhile may have been lost/,
    );
    await viaRedis.said(/the connection to the bus is back after \d+ ms/, 20_000);
    expect(viaGateway.stderr + viaRedis.stderr).not.toMatch(/refused|eventbus:/);
  }, 60_000);

  it("redis - tail through a gateway waits while the gateway's bus is down, then follows", async () => {
    const own = await startRedisServer();
    onTestFinished(() => own.stop());
    const { url } = await startGateway({ bus: fastBus(own.url) });
    // Open and close one stream so the bus has been connected, then take Redis away.
    const first = new Follower(eventsOf(url, uuid()));
    await first.opened();
    await own.kill();
    await waitFor(
      "readyz to report the outage",
      async () => (await fetch(`${url}/readyz`)).status === 503,
    );
    const project = uuid();
    const tail = new CliProcess(["tail", "--project", project, "--count", "1", "--url", url]);
    await tail.said(/not connected to the bus.*\(GATEWAY_NOT_READY\); trying again in 3 s/, 20_000);
    await own.restart();
    await tail.said(/following project/, 20_000);
    await postJson(eventsOf(url, project), { type: "sprint.started", actor_type: "system" });
    expect(await tail.exited).toBe(0);
    expect(tail.stdout).toContain("sprint.started");
  }, 60_000);
});

describe("redis - tail --url redis:// reports what it skips", () => {
  it("redis - a malformed message (a timestamp without offset) is reported, the next event printed", async () => {
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
    const naive = JSON.stringify({
      id: uuid(),
      type: "issue.created",
      timestamp: "2025-12-29T23:48:23",
      project_id: project,
      actor_id: null,
      actor_type: "system",
      payload: {},
    });
    await publishRaw(redis.port, `events:project:${project}`, naive);
    await tail.said(/skipped a malformed message on events:project:\S+ \(schema\)/);
    const published = await runCli([
      "publish",
      "--project",
      project,
      "--type",
      "issue.closed",
      "--url",
      redis.url,
    ]);
    expect(published.code).toBe(0);
    expect(await tail.exited).toBe(0);
    expect(decodeEvent(tail.stdout.trim()).type).toBe("issue.closed");
  }, 60_000);
});

describe("redis - serve against a Redis that is misconfigured or not there", () => {
  it("serve - a wrong password or a database the server lacks: exit 1 at start, with the reason, without the password", async () => {
    const secured = await startRedisServer({ password: "right-one" });
    onTestFinished(() => secured.stop());
    const wrong = await runCli([
      "serve",
      "--port",
      "0",
      "--url",
      `redis://:wrong-one@127.0.0.1:${secured.port}`,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /Redis at redis:\/\/127\.0\.0\.1:\d+ refused the connection: WRONGPASS/,
    );
    expect(wrong.stderr).not.toContain("wrong-one");
    expect(wrong.stdout).not.toContain("listening");
    const database = await runCli(["serve", "--port", "0", "--url", `${secured.url}/99`]);
    expect(database.code).toBe(1);
    expect(database.stderr).toMatch(/refused the connection: ERR DB index is out of range/);
    expect(database.stderr).not.toContain("right-one");
  }, 60_000);

  it("serve - Redis unreachable at start: logged, tried again, listening once it answers", async () => {
    const later = await startRedisServer();
    onTestFinished(() => later.stop());
    await later.kill();
    const cli = new CliProcess(
      ["serve", "--port", "0", "--url", later.url, "--connect-timeout-ms", "200"],
      { EVENTBUS_LOG_LEVEL: "info" },
    );
    // The process may take seconds to start on a loaded machine: be patient, not strict on timing.
    await cli.said(/did not answer within 200 ms \([^)]+\); trying again until it does/, 30_000);
    await cli.said(/still does not answer after 2 attempts/, 30_000);
    expect(cli.stdout).not.toContain("listening");
    await later.restart();
    const [, url] = await cli.printed(/listening on (http:\/\/\S+)/, 20_000);
    await cli.said(/connected to Redis at redis:\/\/127\.0\.0\.1:\d+ at attempt \d+/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  }, 90_000);
});
