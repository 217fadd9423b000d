import { decodeEvent } from "@eventbus/core";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  CliProcess,
  Follower,
  postJson,
  runCli,
  serveCli,
  startGateway,
  uuid,
  waitFor,
} from "./support.js";

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
