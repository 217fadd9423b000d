/**
 * The Redis transport against real redis-server processes that the tests start
 * on free ports (never the machine's own Redis): subscription sharing, many
 * processes, credentials, databases, TLS, clean shutdown, and the wire format
 * the Python original writes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConnectionRejectedError,
  createEventBus,
  EventBus,
  type MalformedMessageError,
} from "../src/index.js";
import { createRedisTransport } from "../src/transports/redis.js";
import { sampleEvent, take, waitFor, within } from "./helpers.js";
import {
  connectRaw,
  FAST_REDIS,
  otherConnections,
  serverSubscriptions,
  useRedisServer,
} from "./redis-helpers.js";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/** Subscribes, publishes one event and receives it on `bus`, then closes the bus. */
async function expectRoundTrip(bus: EventBus): Promise<void> {
  try {
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const sub = bus.subscribe([channel]);
    await sub.ready;
    const event = sampleEvent(projectId);
    await bus.publish(channel, event);
    expect(await take(sub, 1)).toEqual([event]);
  } finally {
    await bus.close();
  }
}

/** Expects a bus on `url` to be refused by the server: `ready` and `publish` reject with one error. */
async function expectRefusal(url: string): Promise<ConnectionRejectedError> {
  // connectTimeoutMs is long: the refusal must come from the server's answer, not a timeout.
  const bus = createEventBus(url, { redis: { ...FAST_REDIS, connectTimeoutMs: 60_000 } });
  try {
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const sub = bus.subscribe([channel]);
    const error = await within(sub.ready, 10_000, "ready").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionRejectedError);
    await expect(bus.ready).rejects.toBe(error);
    await expect(bus.publish(channel, sampleEvent(projectId))).rejects.toBe(error);
    return error as ConnectionRejectedError;
  } finally {
    await bus.close();
  }
}

describe("redis - one server", () => {
  const redis = useRedisServer();
  const newBus = (): EventBus =>
    redis.track(createEventBus(redis.server.url, { redis: FAST_REDIS }));

  it("subscriptions - many local subscribers share one server subscription, gone after the last", async () => {
    const bus = newBus();
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const subs = Array.from({ length: 50 }, () => bus.subscribe([channel]));
    await Promise.all(subs.map((sub) => sub.ready));
    expect(await serverSubscriptions(redis.raw, channel)).toBe(1);

    const event = sampleEvent(projectId);
    await bus.publish(channel, event);
    for (const sub of subs) expect(await take(sub, 1)).toEqual([event]);
    expect(bus.stats().delivered).toBe(50);

    for (const sub of subs) sub.unsubscribe();
    await waitFor(async () => (await serverSubscriptions(redis.raw, channel)) === 0, {
      message: "the server subscription to go",
    });
    expect(bus.stats().channels).toBe(0);
  });

  it("subscriptions - a thousand concurrent subscribe-then-return calls leave no subscription and no error", async () => {
    const bus = newBus();
    const projectIds = Array.from({ length: 10 }, () => randomUUID());
    const channels = projectIds.map((id) => bus.getProjectChannel(id));
    const subs = Array.from({ length: 1_000 }, (_, index) => {
      const sub = bus.subscribe([channels[index % channels.length] as string]);
      void sub.return();
      return sub;
    });
    await Promise.all(subs.map((sub) => sub.ready));
    expect(await Promise.all(subs.map((sub) => sub.closed))).toEqual(subs.map(() => undefined));
    await waitFor(
      async () => {
        const counts = await Promise.all(
          channels.map((channel) => serverSubscriptions(redis.raw, channel)),
        );
        return counts.every((count) => count === 0);
      },
      { message: "every server subscription to go" },
    );
    expect(bus.stats().channels).toBe(0);

    // The bookkeeping is consistent: the same channels subscribe and deliver again.
    const again = bus.subscribe(channels);
    await again.ready;
    const event = sampleEvent(projectIds[3] as string);
    await bus.publish(channels[3] as string, event);
    expect(await take(again, 1)).toEqual([event]);
    expect(await serverSubscriptions(redis.raw, channels[3] as string)).toBe(1);
  });

  it("subscriptions - a channel left and joined again in one tick ends subscribed", async () => {
    const bus = newBus();
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const first = bus.subscribe([channel]);
    await first.ready;
    first.unsubscribe();
    const second = bus.subscribe([channel]);
    await second.ready;
    const event = sampleEvent(projectId);
    await bus.publish(channel, event);
    expect(await take(second, 1)).toEqual([event]);
    expect(await serverSubscriptions(redis.raw, channel)).toBe(1);
  });

  it("shutdown - close() unsubscribes and closes both connections", async () => {
    const bus = newBus();
    const channel = bus.getProjectChannel(randomUUID());
    const sub = bus.subscribe([channel]);
    await sub.ready;
    expect(await otherConnections(redis.raw)).toHaveLength(2);
    await bus.close();
    expect(await sub.next()).toEqual({ done: true, value: undefined });
    expect(await serverSubscriptions(redis.raw, channel)).toBe(0);
    await waitFor(async () => (await otherConnections(redis.raw)).length === 0, {
      message: "the bus's connections to close",
    });
  });

  it("shutdown - the subscriber connection does nothing but subscribe", async () => {
    const bus = newBus();
    const sub = bus.subscribe([bus.getProjectChannel(randomUUID())]);
    await sub.ready;
    await bus.publish(bus.getAgentChannel(randomUUID()), sampleEvent(randomUUID()));
    const lines = await otherConnections(redis.raw);
    const subscriber = lines.filter((line) => / sub=1 /.test(line));
    expect(subscriber).toHaveLength(1);
    expect(subscriber[0]).toMatch(/ cmd=(subscribe|ping) /);
  });

  it("client - a node-redis client is copied for its settings, never used or closed", async () => {
    const template = createClient({ url: redis.server.url });
    await expectRoundTrip(
      new EventBus({ transport: createRedisTransport({ ...FAST_REDIS, client: template }) }),
    );
    expect(template.isOpen).toBe(false);
  });

  it("processes - two buses in two processes see each other's events; the child then exits by itself", async () => {
    const bus = newBus();
    const projectId = randomUUID();
    const toChild = bus.getProjectChannel(projectId);
    const fromChild = bus.getAgentChannel(randomUUID());
    const replies = bus.subscribe([fromChild]);
    await replies.ready;

    const script = fileURLToPath(new URL("fixtures/peer-process.mjs", import.meta.url));
    const child = spawn(
      process.execPath,
      [script, redis.server.url, toChild, fromChild, projectId],
      {
        cwd: packageRoot,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = exitOf(child);
    try {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[
        Symbol.asyncIterator
      ]();
      const nextLine = async (): Promise<Record<string, unknown>> => {
        const { value, done } = await within(lines.next(), 10_000, "a line from the child");
        if (done === true) throw new Error("the child ended its output");
        return JSON.parse(String(value)) as Record<string, unknown>;
      };
      expect(await nextLine()).toEqual({ ready: true });
      const event = sampleEvent(projectId);
      await bus.publish(toChild, event);
      expect(await nextLine()).toEqual({
        received: { ...event, timestamp: event.timestamp.toISOString() },
      });
      const [reply] = await take(replies, 1, 10_000);
      expect(reply?.payload).toEqual({ reply_to: event.id });
      expect(await within(exited, 10_000, "the child's exit")).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("wire - reads JSON exactly as the Python original publishes it (pydantic 2 and 1)", async () => {
    const bus = newBus();
    const projectId = "5a0c6a4e-2f57-4c8e-9d43-7b1f0e4c2a11";
    const channel = bus.getProjectChannel(projectId);
    const malformed: MalformedMessageError[] = [];
    bus.on("malformed", (error) => malformed.push(error));
    const sub = bus.subscribe([channel]);
    await sub.ready;
    // Byte for byte what pydantic 2's model_dump_json() and pydantic 1's .json() write.
    const pydantic2 =
      '{"id":"evt-1","type":"issue.created","timestamp":"2025-12-29T23:48:23.123456Z","project_id":"5a0c6a4e-2f57-4c8e-9d43-7b1f0e4c2a11","actor_id":null,"actor_type":"system","payload":{"issue_id":42,"title":"Fix login"}}';
    const pydantic1 =
      '{"id": "evt-2", "type": "agent.spawned", "timestamp": "2025-12-29T23:48:23.123456+00:00", "project_id": "5a0c6a4e-2f57-4c8e-9d43-7b1f0e4c2a11", "actor_id": "0b6c7d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", "actor_type": "agent", "payload": {}}';
    await redis.raw.publish(channel, pydantic2);
    await redis.raw.publish(channel, pydantic1);
    const [first, second] = await take(sub, 2);
    expect(first).toEqual({
      id: "evt-1",
      type: "issue.created",
      timestamp: new Date("2025-12-29T23:48:23.123Z"),
      project_id: projectId,
      actor_id: null,
      actor_type: "system",
      payload: { issue_id: 42, title: "Fix login" },
    });
    expect(second).toMatchObject({
      id: "evt-2",
      type: "agent.spawned",
      timestamp: new Date("2025-12-29T23:48:23.123Z"),
      actor_id: "0b6c7d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
    });
    expect(malformed).toEqual([]);
  });

  it("wire - what we publish has the original's fields and formats", async () => {
    const bus = newBus();
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const listener = await connectRaw(redis.server.url);
    try {
      const received: string[] = [];
      await listener.subscribe(channel, (message) => received.push(message));
      const withActor = sampleEvent(projectId);
      const withoutActor = sampleEvent(projectId, { actor_type: "system", actor_id: null });
      await bus.publish(channel, withActor);
      await bus.publish(channel, withoutActor);
      await waitFor(() => received.length === 2, { message: "two raw messages" });
      const [first, second] = received.map((data) => JSON.parse(data) as Record<string, unknown>);
      for (const wire of [first, second]) {
        expect(Object.keys(wire ?? {})).toEqual([
          "id",
          "type",
          "timestamp",
          "project_id",
          "actor_id",
          "actor_type",
          "payload",
        ]);
        expect(wire?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(wire?.project_id).toBe(projectId);
      }
      expect(first?.actor_id).toBe(withActor.actor_id);
      expect(second?.actor_id).toBeNull();
      expect(first?.timestamp).toBe(withActor.timestamp.toISOString());
    } finally {
      listener.destroy();
    }
  });
});

describe("redis - credentials and databases", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ password: "pa:ss/w0rd" });
  });
  afterAll(async () => {
    await server.stop();
  });

  const roundTrip = (url: string) => expectRoundTrip(createEventBus(url, { redis: FAST_REDIS }));

  it("credentials - a password in the URL is used", async () => {
    const bus = createEventBus(server.url, { redis: FAST_REDIS });
    await bus.ready;
    expect(bus.connected).toBe(true);
    await bus.close();
    await roundTrip(server.url);
    await roundTrip(server.url.replace("redis://:", "redis://default:"));
  });

  it("credentials - a wrong or missing password is refused at once with ConnectionRejectedError", async () => {
    const wrong = await expectRefusal(`redis://:not-it@127.0.0.1:${server.port}`);
    expect(wrong.code).toBe("EVENTBUS_CONNECTION_REJECTED");
    expect(wrong.message).toMatch(/WRONGPASS/);
    expect(wrong.message).not.toContain("not-it");
    expect((await expectRefusal(`redis://127.0.0.1:${server.port}`)).message).toMatch(/NOAUTH/);
  });

  it("databases - the URL's database is selected; one the server lacks is refused", async () => {
    const url = `${server.url}/5`;
    const bus = createEventBus(url, { redis: FAST_REDIS });
    const raw = await connectRaw(server.url);
    try {
      await bus.subscribe([bus.getProjectChannel(randomUUID())]).ready;
      const lines = await otherConnections(raw);
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).toMatch(/ db=5 /);
    } finally {
      raw.destroy();
      await bus.close();
    }
    expect((await expectRefusal(`${server.url}/99`)).message).toMatch(/DB index is out of range/);
  });
});

describe("redis - TLS", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ tls: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("tls - rediss:// works with a client that trusts the server's certificate", async () => {
    const template = createClient({ url: server.url, socket: { tls: true, ca: server.ca } });
    await expectRoundTrip(
      new EventBus({ transport: createRedisTransport({ ...FAST_REDIS, client: template }) }),
    );
  });

  it("tls - a rediss:// URL to a server with an untrusted certificate is refused", async () => {
    expect((await expectRefusal(server.url)).message).toMatch(/certificate/i);
  });
});

describe("redis - loading", () => {
  it("loading - a memory bus never loads node-redis; a Redis bus loads it when it opens", async () => {
    const loadedModules = async (url: string): Promise<number> => {
      const code = `
        import { createRequire } from "node:module";
        import { randomUUID } from "node:crypto";
        import { createEventBus } from "@eventbus/core";
        const bus = createEventBus(${JSON.stringify(url)}, { redis: { connectTimeoutMs: 200 } });
        await bus.subscribe([bus.getProjectChannel(randomUUID())]).ready.catch(() => {});
        await bus.close();
        const cache = Object.keys(createRequire(import.meta.url).cache);
        console.log(cache.filter((path) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(path)).length);
      `;
      const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
        cwd: packageRoot,
        stdio: ["ignore", "pipe", "inherit"],
      });
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      expect(await within(exitOf(child), 10_000, "the child's exit")).toEqual({
        code: 0,
        signal: null,
      });
      expect(output).toMatch(/^\d+\n$/);
      return Number(output.trim());
    };
    expect(await loadedModules("memory://")).toBe(0);
    // Nothing listens on port 1: the bus fails to open, but it did load the client.
    expect(await loadedModules("redis://127.0.0.1:1")).toBeGreaterThan(0);
  });
});

/** Waits (at most 10 s) for `child` to exit by itself. */
/**
 * The child's exit code and signal, once it exited and its output was read.
 * Call it right after spawning: "close" (not "exit", which can come before
 * the last output) fires once.
 */
async function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}
