import { connect } from "node:net";
import {
  createEvent,
  EventBus,
  EventType,
  MemoryBroker,
  MemoryTransport,
  parsePosition,
} from "@eventbus/core";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  Follower,
  postJson,
  RawStream,
  runFixture,
  SECRET,
  startGateway,
  tokenFor,
  uuid,
  waitFor,
} from "./support.js";

const streamOf = (url: string, projectId: string, query = "") =>
  `${url}/v1/projects/${projectId}/events${query}`;

const event = (type: string, n: number) => ({ type, actor_type: "system", payload: { n } });

/** A bus on `broker`, closed after the test. */
function busOn(broker: MemoryBroker): EventBus {
  const bus = new EventBus({ transport: new MemoryTransport({ broker }) });
  onTestFinished(() => bus.close());
  return bus;
}

describe("stream - delivery", () => {
  it("stream - events arrive in the order published, one SSE message each with its position as id", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const follower = new Follower(streamOf(url, project));
    await follower.opened();
    const published: string[] = [];
    for (let n = 0; n < 20; n++) {
      const response = await postJson(streamOf(url, project), event(EventType.ISSUE_UPDATED, n));
      published.push((await response.json()).id);
    }
    const events = await follower.received(20);
    expect(events.map((e) => e.id)).toEqual(published);
    expect(follower.ids.map((id) => parsePosition(id).offset)).toEqual(
      [...Array(20).keys()].map((n) => n + 1),
    );
    expect(events.map((e) => e.payload.n)).toEqual([...Array(20).keys()]);
  });

  it("stream - a project's followers never see another project's events", async () => {
    const { url } = await startGateway();
    const [projectA, projectB] = [uuid(), uuid()];
    const followA = new Follower(streamOf(url, projectA));
    const followB = new Follower(streamOf(url, projectB));
    await Promise.all([followA.opened(), followB.opened()]);
    for (let n = 0; n < 5; n++) {
      await postJson(streamOf(url, projectA), event(EventType.ISSUE_CREATED, n));
      await postJson(streamOf(url, projectB), event(EventType.ISSUE_CLOSED, n));
    }
    const [gotA, gotB] = await Promise.all([followA.received(5), followB.received(5)]);
    expect(gotA.every((e) => e.project_id === projectA && e.type === "issue.created")).toBe(true);
    expect(gotB.every((e) => e.project_id === projectB && e.type === "issue.closed")).toBe(true);
  });

  it("stream - ?types= delivers only the listed types", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const follower = new Follower(streamOf(url, project, "?types=issue.closed,sprint.started"));
    await follower.opened();
    const types = [EventType.ISSUE_CREATED, EventType.ISSUE_CLOSED, EventType.AGENT_MESSAGE];
    for (const [n, type] of [...types, EventType.SPRINT_STARTED].entries()) {
      await postJson(streamOf(url, project), event(type, n));
    }
    await follower.received(2);
    expect(follower.types()).toEqual(["issue.closed", "sprint.started"]);
  });

  it("stream - eventbus_sse_events_sent_total counts each event written to each stream, after ?types=", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const all = new Follower(streamOf(url, project));
    const closedOnly = new Follower(streamOf(url, project, "?types=issue.closed"));
    await Promise.all([all.opened(), closedOnly.opened()]);
    await postJson(streamOf(url, project), event(EventType.ISSUE_CREATED, 0));
    await postJson(streamOf(url, project), event(EventType.ISSUE_CLOSED, 1));
    await Promise.all([all.received(2), closedOnly.received(1)]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("eventbus_sse_events_sent_total 3\n");
  });

  it("stream - agent streams carry the agent channel's events", async () => {
    const { url } = await startGateway();
    const [agent, project] = [uuid(), uuid()];
    const follower = new Follower(`${url}/v1/agents/${agent}/events`);
    await follower.opened();
    await postJson(`${url}/v1/agents/${agent}/events`, {
      ...event(EventType.AGENT_SPAWNED, 1),
      project_id: project,
    });
    const [received] = await follower.received(1);
    expect(received).toMatchObject({ type: "agent.spawned", project_id: project });
  });

  it("stream - sends the retry hint first and heartbeat comments at the configured interval", async () => {
    const { url } = await startGateway({ heartbeatMs: 20, retryMs: 1234 });
    const stream = new RawStream(streamOf(url, uuid()));
    const response = await stream.started();
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("no-cache, no-transform");
    await stream.contains(": heartbeat\n\n");
    expect(stream.text.startsWith("retry: 1234\n\n")).toBe(true);
  });
});

describe("stream - one subscription per channel", () => {
  it("stream - many followers of a channel share one server subscription, released when they leave", async () => {
    const broker = new MemoryBroker();
    const bus = busOn(broker);
    const { url } = await startGateway({ bus });
    const project = uuid();
    const channel = bus.getProjectChannel(project);
    const followers = [1, 2, 3].map(() => new Follower(streamOf(url, project)));
    await Promise.all(followers.map((f) => f.opened()));
    expect(broker.subscriberCount(channel)).toBe(1);
    expect(bus.stats().channels).toBe(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('eventbus_sse_open_streams{kind="project"} 3');
    expect(metrics).toContain("eventbus_bus_channels 1");

    await postJson(streamOf(url, project), event(EventType.ISSUE_CREATED, 1));
    await Promise.all(followers.map((f) => f.received(1)));

    for (const follower of followers) follower.source.close();
    await waitFor("the channel to be released", () => broker.subscriberCount(channel) === 0);
    expect(bus.stats().channels).toBe(0);
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toContain('eventbus_sse_open_streams{kind="project"} 0');
  });

  it("stream - two gateways on one broker: publish on one, receive on the other", async () => {
    const broker = new MemoryBroker();
    const first = await startGateway({ bus: busOn(broker) });
    const second = await startGateway({ bus: busOn(broker) });
    const project = uuid();
    const follower = new Follower(streamOf(second.url, project));
    await follower.opened();
    const response = await postJson(
      streamOf(first.url, project),
      event(EventType.SPRINT_STARTED, 1),
    );
    const [received] = await follower.received(1);
    expect(received?.id).toBe((await response.json()).id);
  });
});

describe("stream - access control", () => {
  it("stream - a browser of project A with a token for A never receives B, and is refused B", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const [projectA, projectB] = [uuid(), uuid()];
    const readerA = await tokenFor({ projects: [projectA] });
    const publisher = {
      authorization: `Bearer ${await tokenFor({ projects: ["*"], publish: true })}`,
    };

    const refused = new Follower(streamOf(url, projectB, `?access_token=${readerA}`));
    expect(await refused.refused()).toBe(403);
    const anonymous = new Follower(streamOf(url, projectA));
    expect(await anonymous.refused()).toBe(401);

    const follower = new Follower(streamOf(url, projectA, `?access_token=${readerA}`));
    await follower.opened();
    for (let n = 0; n < 3; n++) {
      await postJson(streamOf(url, projectB), event(EventType.ISSUE_CREATED, n), publisher);
    }
    await postJson(streamOf(url, projectA), event(EventType.ISSUE_CLOSED, 99), publisher);
    await follower.received(1);
    expect(follower.events).toHaveLength(1);
    expect(follower.events[0]).toMatchObject({ project_id: projectA, payload: { n: 99 } });
  });

  it("stream - the token may come as an Authorization header or a cookie", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const project = uuid();
    const token = await tokenFor({ projects: [project] });
    const byHeader = new Follower(streamOf(url, project), { authorization: `Bearer ${token}` });
    const byCookie = new Follower(streamOf(url, project), {
      cookie: `theme=dark; eventbus_token=${token}`,
    });
    await Promise.all([byHeader.opened(), byCookie.opened()]);
  });

  it("stream - an expired token ends the open stream with a reason", async () => {
    const { url, gateway } = await startGateway({ auth: { secret: SECRET } });
    const project = uuid();
    // exp is whole seconds: 2 s from now leaves at least 1 s to open the stream before it.
    const token = await tokenFor({ projects: [project], ttlSeconds: 2 });
    const stream = new RawStream(streamOf(url, project, `?access_token=${token}`));
    expect((await stream.started()).statusCode).toBe(200);
    await stream.finished();
    expect(stream.text).toContain(
      'event: error\ndata: {"code":"GATEWAY_TOKEN_EXPIRED","message":"the access token has expired"}\n\n',
    );
    await waitFor("the subscription to be released", () => gateway.bus.stats().channels === 0);
  });
});

describe("stream - slow clients and shutdown", () => {
  it("stream - a client that stops reading is cut off with a reason once its buffer is full; others go on", async () => {
    const { url, gateway } = await startGateway({ streamBuffer: 4 });
    const project = uuid();
    const channel = gateway.bus.getProjectChannel(project);
    const healthy = new Follower(streamOf(url, project));
    await healthy.opened();

    // A raw client that reads the response head, then stops reading.
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    onTestFinished(() => {
      socket.destroy();
    });
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.once("data", () => socket.pause());
    socket.write(`GET /v1/projects/${project}/events HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await waitFor("the slow client's stream to open", () => received.includes("retry:"));
    await waitFor("both streams to follow the channel", async () =>
      (await (await fetch(`${url}/metrics`)).text()).includes('open_streams{kind="project"} 2'),
    );

    // Publish large events until the gateway gives up on the slow client.
    const payload = { text: "x".repeat(64 * 1024) };
    let published = 0;
    await waitFor(
      "the slow client to be cut off",
      async () => {
        await gateway.bus.publish(
          channel,
          createEvent({
            type: EventType.AGENT_MESSAGE,
            project_id: project,
            actor_type: "system",
            payload,
          }),
        );
        published++;
        return gateway.bus.stats().slowConsumers === 1;
      },
      20_000,
    );
    socket.resume();
    await waitFor("the reason to arrive", () => received.includes("EVENTBUS_SLOW_CONSUMER"));
    expect(received).toMatch(
      /event: error\ndata: \{"code":"EVENTBUS_SLOW_CONSUMER","message":"[^"]+"\}\n\n/,
    );
    // The chunked response ends (its last chunk), right after the reason.
    await waitFor("the slow client's response to end", () =>
      received.endsWith("\n\n\r\n0\r\n\r\n"),
    );

    // The healthy follower received every event, and the drop was counted.
    await healthy.received(published);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("eventbus_slow_consumers_total 1");
    expect(metrics).toMatch(/eventbus_sse_events_dropped_total [1-9]/);
  });

  it("stream - shutdown ends open streams with a comment, closes unused sockets, then refuses connections", async () => {
    const { url, gateway } = await startGateway();
    const stream = new RawStream(streamOf(url, uuid()));
    await stream.started();
    // A socket that connected and never sent a request (as browsers open ahead of need).
    const unused = connect(Number(new URL(url).port), "127.0.0.1");
    onTestFinished(() => {
      unused.destroy();
    });
    const unusedClosed = new Promise((resolve) => unused.once("close", resolve));
    await new Promise((resolve) => unused.once("connect", resolve));
    await gateway.close();
    await stream.finished();
    expect(stream.text).toContain(": server shutting down\n\n");
    await unusedClosed;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe("stream - an open stream holds only what it uses", () => {
  it("stream - open streams hold none of Fastify's request and reply objects", async () => {
    const [record] = await runFixture<{ open: number; fastifyObjects: number; held: number }>(
      "stream-retention.mjs",
      20,
    );
    expect(record?.open).toBe(20);
    expect(record?.fastifyObjects).toBe(40);
    expect(record?.held).toBe(0);
  }, 60_000);
});

describe("stream - closed streams leave nothing behind", () => {
  /** Runs test/fixtures/stream-churn.mjs; one record per round. */
  const churn = (...rounds: number[]) =>
    runFixture<{ connections: number; heapUsed: number }>("stream-churn.mjs", ...rounds);

  it("stream - 2,000 streams opened and closed over HTTP: no socket kept, heap back within 2 MB", async () => {
    // A first round warms up compiled code and caches; the second is measured against it.
    const [warm, measured] = await churn(1000, 2000);
    expect(warm?.connections).toBe(0);
    expect(measured?.connections).toBe(0);
    // Each leaked stream held about 6.7 KB (its socket, request, response and logger): 13 MB here.
    expect((measured?.heapUsed ?? Number.NaN) - (warm?.heapUsed ?? 0)).toBeLessThan(
      2 * 1024 * 1024,
    );
  }, 60_000);
});
