/**
 * Faults on real redis-server processes, each asserting what a user of the
 * bus sees: connection events and counters, typed errors within their bounds,
 * and subscriptions that stay open and deliver again.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BusClosedError,
  type ConnectionEvent,
  createEventBus,
  type EventBus,
  type MalformedMessageError,
  NotConnectedError,
  PublishFailedError,
  type Subscription,
} from "../src/index.js";
import { sampleEvent, take, waitFor, within } from "./helpers.js";
import { connectRaw, FAST_REDIS, serverSubscriptions, useRedisServer } from "./redis-helpers.js";

/** Whether the server answers (a failed test may leave it killed for the next one). */
async function isUp(server: RedisServer): Promise<boolean> {
  try {
    (await connectRaw(server.url)).destroy();
    return true;
  } catch {
    return false;
  }
}

/** A bus on `url` with fast recovery, recording its connection events. */
function watchedBus(url: string, redis = {}) {
  const bus = createEventBus(url, { redis: { ...FAST_REDIS, ...redis } });
  const events: ConnectionEvent[] = [];
  bus.on("connection", (event) => events.push(event));
  return { bus, events };
}

/** Subscribes to a fresh project channel and waits until the server confirmed it. */
async function subscribed(bus: EventBus) {
  const projectId = randomUUID();
  const channel = bus.getProjectChannel(projectId);
  const sub = bus.subscribe([channel]);
  await sub.ready;
  return { projectId, channel, sub };
}

/** Publishes one event and expects `sub` to receive exactly it. */
async function expectDelivery(bus: EventBus, sub: Subscription, projectId: string) {
  const event = sampleEvent(projectId);
  await bus.publish(sub.channels[0] as string, event);
  expect(await take(sub, 1)).toEqual([event]);
}

describe("redis faults - one server", () => {
  const redis = useRedisServer();
  const newBus = (settings = {}) => {
    const watched = watchedBus(redis.server.url, settings);
    redis.track(watched.bus);
    return watched;
  };

  it("faults - the subscriber connection killed (CLIENT KILL TYPE pubsub): the gap is reported, events flow again", async () => {
    const { bus, events } = newBus();
    const { projectId, channel, sub } = await subscribed(bus);
    const other = newBus().bus;

    expect(
      await redis.raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]),
    ).toBeGreaterThanOrEqual(1);
    await waitFor(() => bus.stats().reconnects === 1, { message: "the bus to reconnect" });

    expect(events.map((event) => event.state)).toEqual(["disconnected", "reconnected"]);
    expect(events[0]).toMatchObject({ state: "disconnected", error: expect.any(Error) });
    expect(events[1]?.state === "reconnected" && events[1].downtimeMs).toBeGreaterThanOrEqual(0);
    expect(bus.stats()).toMatchObject({ disconnects: 1, reconnects: 1 });
    expect(await serverSubscriptions(redis.raw, channel)).toBe(1);
    // The same iterator, still open, receives from this bus and from another one.
    await expectDelivery(bus, sub, projectId);
    const fromOther = sampleEvent(projectId);
    await other.publish(channel, fromOther);
    expect(await take(sub, 1)).toEqual([fromOther]);
  });

  it("faults - ten thousand malformed messages among valid ones: every valid one arrives, in order", async () => {
    const { bus, events } = newBus();
    const { projectId, channel, sub } = await subscribed(bus);
    const reports: MalformedMessageError[] = [];
    bus.on("malformed", (error) => reports.push(error));

    const template = { ...sampleEvent(projectId), timestamp: "2025-12-29T23:48:23.123456Z" };
    const kinds = [
      () => "{not json",
      () => JSON.stringify({ ...template, type: "issue.deleted" }),
      () => JSON.stringify({ ...template, actor_type: "robot" }),
      () => JSON.stringify({ ...template, project_id: randomUUID() }),
      () => JSON.stringify([template]),
    ];
    const messages: string[] = [];
    for (let seq = 0; seq < 1_000; seq++) {
      messages.push(JSON.stringify({ ...template, id: `valid-${seq}`, payload: { seq } }));
      for (let bad = 0; bad < 10; bad++)
        messages.push((kinds[bad % kinds.length] as () => string)());
    }
    await Promise.all(messages.map((data) => redis.raw.publish(channel, data)));

    const received = await take(sub, 1_000, 20_000).finally(() => {
      expect(events, "no connection loss during the flood").toEqual([]);
    });
    expect(received.map((event) => event.payload.seq)).toEqual(
      Array.from({ length: 1_000 }, (_, seq) => seq),
    );
    await waitFor(() => reports.length === 10_000, { message: "10,000 malformed reports" });
    expect(bus.stats().malformed).toBe(10_000);
    const reasons = new Map<string, number>();
    for (const report of reports) reasons.set(report.reason, (reasons.get(report.reason) ?? 0) + 1);
    expect(Object.fromEntries(reasons)).toEqual({
      json: 2_000,
      schema: 6_000,
      "channel-mismatch": 2_000,
    });
    expect(sub.pending).toBe(0);
    await expectDelivery(bus, sub, projectId);
  });

  it("faults - a hung server (SIGSTOP) is detected by the health check; the publish in flight fails; it recovers", async () => {
    const { bus, events } = newBus({ healthCheckIntervalMs: 250 });
    const { projectId, channel, sub } = await subscribed(bus);
    const stuck = sampleEvent(projectId);
    process.kill(redis.server.pid, "SIGSTOP");
    try {
      const inFlight = bus.publish(channel, stuck);
      const error = await within(inFlight, 10_000, "the publish to a hung server").catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(PublishFailedError);
      await waitFor(() => bus.stats().disconnects === 1, { message: "the hang to be reported" });
    } finally {
      process.kill(redis.server.pid, "SIGCONT");
    }
    await waitFor(() => bus.stats().reconnects === 1, {
      timeoutMs: 10_000,
      message: "the bus to reconnect",
    });
    expect(events.map((event) => event.state)).toEqual(["disconnected", "reconnected"]);
    const next = sampleEvent(projectId);
    await bus.publish(channel, next);
    // PublishFailedError means "may or may not have been published": the resumed server
    // may still read the PUBLISH that was in flight, and deliver it first.
    const [first] = await take(sub, 1);
    if (first?.id === stuck.id) expect(await take(sub, 1)).toEqual([next]);
    else expect(first).toEqual(next);
  });
});

describe("redis faults - a server that dies", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("faults - SIGKILL, then a restart on the same port: publishes fail within their bound, then events flow again", async () => {
    const { bus, events } = watchedBus(server.url);
    const receiver = watchedBus(server.url);
    try {
      const { projectId, channel, sub } = await subscribed(bus);
      const remote = receiver.bus.subscribe([channel]);
      await remote.ready;

      await server.kill("SIGKILL");
      await waitFor(() => bus.stats().disconnects === 1, { message: "the loss to be reported" });
      // Until the publisher connection notices the loss, a publish fails under it
      // (PublishFailedError); once it has, a publish waits publishTimeoutMs (NotConnectedError).
      const errors: unknown[] = [];
      await waitFor(
        async () => {
          errors.push(await bus.publish(channel, sampleEvent(projectId)).catch((caught) => caught));
          return errors.at(-1) instanceof NotConnectedError;
        },
        { message: "a publish to wait for the connection and fail" },
      );
      for (const error of errors.slice(0, -1)) expect(error).toBeInstanceOf(PublishFailedError);
      expect((errors.at(-1) as Error).message).toMatch(/publish waited 300 ms/);
      // Subscribing during the outage waits for the next connection, which subscribes it.
      const lateProject = randomUUID();
      const late = bus.subscribe([bus.getProjectChannel(lateProject)]);

      await server.restart();
      await waitFor(() => bus.stats().reconnects === 1 && receiver.bus.stats().reconnects === 1, {
        message: "both buses to reconnect",
      });
      await late.ready;
      expect(events.map((event) => event.state)).toEqual(["disconnected", "reconnected"]);
      const reconnected = events[1];
      expect(reconnected?.state === "reconnected" && reconnected.downtimeMs).toBeGreaterThan(0);
      expect(bus.stats().downtimeMs).toBeGreaterThan(0);
      // The publish that failed is not counted as published.
      expect(bus.stats().published).toBe(0);

      const after = sampleEvent(projectId);
      await bus.publish(channel, after);
      expect(await take(sub, 1)).toEqual([after]);
      expect(await take(remote, 1)).toEqual([after]);
      await expectDelivery(bus, late, lateProject);
    } finally {
      await Promise.all([bus.close(), receiver.bus.close()]);
      if (!(await isUp(server))) await server.restart();
    }
  });

  it("faults - close() during an outage leaves nothing running: the process exits by itself", async () => {
    // The child opens a bus, says so, and closes it once it saw the connection lost. Its
    // reconnect delay (15 to 30 s) outlasts the wait for its exit: a timer left behind shows.
    const settings = { reconnectInitialDelayMs: 30_000, reconnectMaxDelayMs: 30_000 };
    const code = `
      import { randomUUID } from "node:crypto";
      import { createEventBus } from "@eventbus/core";
      const bus = createEventBus(process.argv[1], { redis: ${JSON.stringify(settings)} });
      const lost = new Promise((resolve) => bus.on("connection", resolve));
      await bus.subscribe([bus.getProjectChannel(randomUUID())]).ready;
      console.log("ready");
      await lost;
      await bus.close();
      console.log("closed");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", code, server.url], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    // "close", not "exit": the child's last output can arrive after "exit".
    const exit = once(child, "close");
    try {
      await waitFor(() => output.includes("ready"), { message: "the child's bus" });
      await server.kill("SIGKILL");
      const [exitCode] = await within(exit, 10_000, "the child's exit");
      expect({ exitCode, output }).toEqual({ exitCode: 0, output: "ready\nclosed\n" });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (!(await isUp(server))) await server.restart();
    }
  });

  it("faults - close() during an outage resolves and ends every iterator", async () => {
    const { bus } = watchedBus(server.url);
    const { sub } = await subscribed(bus);
    await server.kill("SIGKILL");
    try {
      await waitFor(() => bus.stats().disconnects === 1, { message: "the loss to be reported" });
      await within(bus.close(), 5_000, "close()");
      expect(await sub.next()).toEqual({ done: true, value: undefined });
    } finally {
      if (!(await isUp(server))) await server.restart();
    }
  });
});

describe("redis faults - no server at start", () => {
  let url: string;
  beforeAll(async () => {
    // A port that had a server a moment ago and now has none.
    const server = await startRedisServer();
    await server.stop();
    url = `redis://127.0.0.1:${server.port}`;
  });

  it("faults - server down at start: ready and publish fail with NotConnectedError after connectTimeoutMs", async () => {
    const { bus, events } = watchedBus(url, { connectTimeoutMs: 300 });
    try {
      const projectId = randomUUID();
      const channel = bus.getProjectChannel(projectId);
      const sub = bus.subscribe([channel]);
      const error = await sub.ready.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotConnectedError);
      expect((error as Error).message).toMatch(/connecting waited 300 ms.*ECONNREFUSED/);
      expect(await sub.closed).toBe(error);
      await expect(bus.ready).rejects.toBe(error);
      await expect(bus.publish(channel, sampleEvent(projectId))).rejects.toBe(error);
      expect(events).toEqual([]);
    } finally {
      await bus.close();
    }
  });

  it("faults - a bus closed while it is still connecting stops at once", async () => {
    const { bus } = watchedBus(url, { connectTimeoutMs: 60_000 });
    const sub = bus.subscribe([bus.getProjectChannel(randomUUID())]);
    await within(bus.close(), 5_000, "close()");
    await expect(sub.ready).rejects.toBeInstanceOf(BusClosedError);
  });
});

describe("redis faults - output buffer limit", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ args: ["--client-output-buffer-limit", "pubsub 64kb 0 0"] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("faults - a subscriber disconnected by client-output-buffer-limit pubsub is reported and recovers", async () => {
    const { bus, events } = watchedBus(server.url);
    try {
      const { projectId, channel, sub } = await subscribed(bus);
      // More than the hard limit waiting for one subscriber, as when it reads too slowly.
      const flood = sampleEvent(projectId, { payload: { text: "x".repeat(100_000) } });
      await bus.publish(channel, flood);
      await waitFor(() => bus.stats().reconnects === 1, { message: "the bus to reconnect" });
      expect(events.map((event) => event.state)).toEqual(["disconnected", "reconnected"]);
      // At-most-once: the flood was lost with the connection; the next event arrives.
      await expectDelivery(bus, sub, projectId);
      expect(bus.stats().delivered).toBe(1);
    } finally {
      await bus.close();
    }
  });
});
