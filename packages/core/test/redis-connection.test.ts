/**
 * RedisConnection with fake clients: no server, so each step of connecting,
 * preparing, losing and replacing a connection is driven by the test.
 */
import { EventEmitter } from "node:events";
import { ErrorReply } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { BusClosedError, ConnectionRejectedError, NotConnectedError } from "../src/index.js";
import {
  type ConnectionHooks,
  RedisConnection,
  type SupervisedClient,
} from "../src/transports/redis-connection.js";
import { resolveRedisSettings } from "../src/transports/redis-options.js";
import { waitFor } from "./helpers.js";

/** A client whose connect() the test settles, and whose loss it triggers. */
class FakeClient extends EventEmitter implements SupervisedClient {
  isReady = false;
  destroyed = false;
  #settle: { resolve(): void; reject(error: Error): void } | undefined;

  connect(): Promise<unknown> {
    return new Promise<void>((resolve, reject) => {
      this.#settle = {
        resolve: () => {
          this.isReady = true;
          resolve();
        },
        reject,
      };
    });
  }
  succeed(): void {
    this.#settle?.resolve();
  }
  fail(error: Error): void {
    this.#settle?.reject(error);
  }
  lose(error: Error): void {
    this.isReady = false;
    this.emit("terminated", error);
  }
  async close(): Promise<void> {
    this.destroy();
  }
  destroy(): void {
    this.isReady = false;
    this.destroyed = true;
  }
}

const settings = resolveRedisSettings({ reconnectInitialDelayMs: 1, reconnectMaxDelayMs: 2 });
const connections: RedisConnection<FakeClient>[] = [];

function supervise(hooks: Partial<ConnectionHooks<FakeClient>> = {}) {
  const clients: FakeClient[] = [];
  const changes: boolean[] = [];
  const connection: RedisConnection<FakeClient> = new RedisConnection("test", settings, {
    create: () => {
      const client = new FakeClient();
      clients.push(client);
      return client;
    },
    prepare: async () => {},
    farewell: async () => {},
    changed: () => changes.push(connection.client !== undefined),
    ...hooks,
  });
  connections.push(connection);
  connection.start();
  return { connection, clients, changes };
}

const soon = (ms = 60_000) => performance.now() + ms;

afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close(10)));
});

describe("redis connection - supervision", () => {
  it("hands the client to waiters once it is connected and prepared", async () => {
    const prepared: FakeClient[] = [];
    const { connection, clients, changes } = supervise({
      prepare: async (client) => {
        prepared.push(client);
      },
    });
    const waiting = connection.whenUp(soon(), "test");
    clients[0]?.succeed();
    expect(await waiting).toBe(clients[0]);
    expect(prepared).toEqual([clients[0]]);
    expect(changes).toEqual([true]);
    expect(await connection.whenUp(soon(), "test")).toBe(clients[0]);
  });

  it("retries a failed attempt with a new client", async () => {
    const { connection, clients } = supervise();
    const waiting = connection.whenUp(soon(), "test");
    clients[0]?.fail(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    await waitFor(() => clients.length === 2, { message: "a second attempt" });
    expect(clients[0]?.destroyed).toBe(true);
    clients[1]?.succeed();
    expect(await waiting).toBe(clients[1]);
  });

  it("replaces a lost client, reporting down then up", async () => {
    const { connection, clients, changes } = supervise();
    clients[0]?.succeed();
    await connection.whenUp(soon(), "test");
    clients[0]?.lose(new Error("Socket closed unexpectedly"));
    expect(connection.client).toBeUndefined();
    expect(connection.lastError?.message).toBe("Socket closed unexpectedly");
    await waitFor(() => clients.length === 2, { message: "a new client" });
    clients[1]?.succeed();
    expect(await connection.whenUp(soon(), "test")).toBe(clients[1]);
    expect(changes).toEqual([true, false, true]);
    expect(clients[0]?.destroyed).toBe(true);
  });

  it("drop() gives up an up client as lost, with its reason, and connects a new one", async () => {
    const { connection, clients, changes } = supervise();
    connection.drop(new Error("not up yet: ignored"));
    clients[0]?.succeed();
    await connection.whenUp(soon(), "test");
    connection.drop(new Error("deaf: the probe went unanswered"));
    expect(connection.client).toBeUndefined();
    expect(connection.lastError?.message).toBe("deaf: the probe went unanswered");
    await waitFor(() => clients.length === 2, { message: "a new client" });
    clients[1]?.succeed();
    expect(await connection.whenUp(soon(), "test")).toBe(clients[1]);
    expect(changes).toEqual([true, false, true]);
    await waitFor(() => clients[0]?.destroyed === true, {
      message: "the dropped client destroyed",
    });
  });

  it("does not count a client lost while it was being prepared as up", async () => {
    let release = (): void => {};
    const { connection, clients } = supervise({
      prepare: (client) =>
        client === clients[0] ? new Promise((resolve) => (release = resolve)) : Promise.resolve(),
    });
    clients[0]?.succeed();
    await waitFor(() => clients[0]?.isReady === true);
    (clients[0] as FakeClient).isReady = false;
    release();
    await waitFor(() => clients.length === 2, { message: "a new client" });
    clients[1]?.succeed();
    expect(await connection.whenUp(soon(), "test")).toBe(clients[1]);
  });

  it("fails waiters with NotConnectedError at their deadline, naming the operation and the last error", async () => {
    const { connection, clients } = supervise();
    clients[0]?.fail(new Error("connect ECONNREFUSED 127.0.0.1:1"));
    const error = await connection
      .whenUp(performance.now() + 20, "publish waited 20 ms")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect((error as Error).message).toBe(
      "publish waited 20 ms, but the test connection to Redis was not up (last error: connect ECONNREFUSED 127.0.0.1:1)",
    );
  });

  it("expires waiters by their own deadlines", async () => {
    const { connection, clients } = supervise();
    const late = connection.whenUp(soon(), "late");
    const early = connection.whenUp(performance.now() + 10, "early");
    await expect(early).rejects.toBeInstanceOf(NotConnectedError);
    clients[0]?.succeed();
    expect(await late).toBe(clients[0]);
  });

  it("fails at once with ConnectionRejectedError when the server refuses the first connection", async () => {
    const { connection, clients } = supervise();
    const waiting = connection.whenUp(soon(), "test");
    clients[0]?.fail(new ErrorReply("WRONGPASS invalid username-password pair"));
    const error = await waiting.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionRejectedError);
    expect((error as Error).message).toMatch(/refused the test connection: WRONGPASS/);
    await expect(connection.whenUp(soon(), "test")).rejects.toBe(error);
    expect(clients).toHaveLength(1);
  });

  it("retries a server that is still loading", async () => {
    const { connection, clients } = supervise();
    const waiting = connection.whenUp(soon(), "test");
    clients[0]?.fail(new ErrorReply("LOADING Redis is loading the dataset in memory"));
    await waitFor(() => clients.length === 2, { message: "a second attempt" });
    clients[1]?.succeed();
    expect(await waiting).toBe(clients[1]);
  });

  it("close() stops connecting, fails waiters with BusClosedError and says farewell to an up client", async () => {
    const { connection, clients } = supervise();
    const waiting = connection.whenUp(soon(), "test");
    await connection.close(10);
    await expect(waiting).rejects.toBeInstanceOf(BusClosedError);
    expect(clients[0]?.destroyed).toBe(true);
    clients[0]?.succeed();
    expect(connection.client).toBeUndefined();

    const farewells: FakeClient[] = [];
    const up = supervise({
      farewell: async (client) => {
        farewells.push(client);
      },
    });
    up.clients[0]?.succeed();
    await up.connection.whenUp(soon(), "test");
    await up.connection.close(10);
    expect(farewells).toEqual([up.clients[0]]);
    expect(up.clients[0]?.destroyed).toBe(true);
  });
});
