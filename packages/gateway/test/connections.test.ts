import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { connect, type Socket } from "node:net";
import { EventBus, MemoryTransport } from "@eventbus/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";
import { RawStream, runFixture, startGateway, uuid, waitFor } from "./support.js";

/** What a GET answered, and the client socket it came on. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly socket: Socket;
}

/** GETs `url` through `agent` and reads the whole answer. */
function get(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          socket: req.socket as Socket,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** A keep-alive agent (each socket stays open for the next request), destroyed after the test. */
function keepAliveAgent(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  onTestFinished(() => agent.destroy());
  return agent;
}

/** Resolves once `socket` has closed. */
function closed(socket: Socket): Promise<void> {
  return socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", () => resolve()));
}

/** A socket to the gateway at `url` that never sends a request, as browsers open ahead of need. */
async function unusedSocket(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  socket.on("error", () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

/** Resolves with true once a new connection to `url` is refused. */
function refusesConnections(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/** A memory transport whose subscriptions wait until {@link release}, counting them. */
class GatedTransport extends MemoryTransport {
  waiting = 0;
  release!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  override async subscribe(channels: readonly string[]): Promise<void> {
    this.waiting++;
    await this.#gate;
    return super.subscribe(channels);
  }
}

/** What `eventbus_http_connections` reports now (scraped without a socket). */
async function openSockets(gateway: Gateway): Promise<number> {
  const text = (await gateway.app.inject("/metrics")).body;
  return Number(/^eventbus_http_connections (\d+)$/m.exec(text)?.[1]);
}

describe("connections - graceful shutdown", () => {
  it("connections - shutdown closes an idle keep-alive socket without waiting for its timeout", async () => {
    const { url, gateway } = await startGateway();
    const answer = await get(keepAliveAgent(), `${url}/healthz`);
    expect(answer.headers.connection).toBe("keep-alive");
    // Fastify keeps an idle socket for 72 s: a close that waited for that would time the test out.
    await gateway.close();
    await closed(answer.socket);
  });

  it("connections - shutdown closes a socket that connected and never sent a request", async () => {
    const { url, gateway } = await startGateway();
    const unused = await unusedSocket(url);
    await gateway.close();
    await closed(unused);
    expect(await refusesConnections(url)).toBe(true);
  });

  it("connections - a request in flight at shutdown is answered, with Connection: close, then its socket closes", async () => {
    const gateway = createGateway({ logLevel: "silent" });
    onTestFinished(() => gateway.close());
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    gateway.app.get("/slow", async () => {
      arrived();
      await released;
      return { answered: true };
    });
    const url = await gateway.listen({ host: "127.0.0.1", port: 0 });
    const answering = get(keepAliveAgent(), `${url}/slow`);
    await inFlight;
    const closing = gateway.close();
    await waitFor("the gateway to stop listening", () => refusesConnections(url));
    release();
    const answer = await answering;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ answered: true });
    expect(answer.headers.connection).toBe("close");
    await closed(answer.socket);
    await closing;
  });

  it("connections - a stream confirmed after shutdown began is ended at once, as the open ones were", async () => {
    const transport = new GatedTransport();
    const bus = new EventBus({ transport });
    onTestFinished(() => bus.close());
    const { url, gateway } = await startGateway({ bus });
    // An agent that keeps an idle socket for ever: only the gateway can close it.
    const answering = get(keepAliveAgent(), `${url}/v1/projects/${uuid()}/events`);
    await waitFor("the stream to wait for its subscription", () => transport.waiting > 0);
    const closing = gateway.close();
    await waitFor("the gateway to stop listening", () => refusesConnections(url));
    transport.release();
    const answer = await answering;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^retry: \d+\n\n: server shutting down\n\n$/);
    await closed(answer.socket);
    await closing;
  });

  it("connections - shutdown ends open streams, then every socket is closed", async () => {
    const { url, gateway } = await startGateway();
    const streams = [0, 1].map(() => new RawStream(`${url}/v1/projects/${uuid()}/events`));
    for (const stream of streams) await stream.started();
    const answer = await get(keepAliveAgent(), `${url}/healthz`);
    const unused = await unusedSocket(url);
    await gateway.close();
    for (const stream of streams) {
      await stream.finished();
      expect(stream.text).toContain(": server shutting down\n\n");
    }
    await Promise.all([closed(answer.socket), closed(unused)]);
  });
});

describe("connections - eventbus_http_connections", () => {
  it("connections - the gauge counts open sockets: streams, idle keep-alive and unused ones", async () => {
    const { url, gateway } = await startGateway();
    expect(await openSockets(gateway)).toBe(0);
    const stream = new RawStream(`${url}/v1/projects/${uuid()}/events`);
    await stream.started();
    const agent = keepAliveAgent();
    await get(agent, `${url}/healthz`);
    const unused = await unusedSocket(url);
    await waitFor("three open sockets", async () => (await openSockets(gateway)) === 3);
    unused.destroy();
    await waitFor("two open sockets", async () => (await openSockets(gateway)) === 2);
    stream.request.destroy();
    agent.destroy();
    await waitFor("no open socket", async () => (await openSockets(gateway)) === 0);
  });
});

describe("connections - sockets that closed leave nothing behind", () => {
  it("connections - 5,000 sockets that closed without sending a request: heap back within 2 MB", async () => {
    // A first round warms up; each socket kept would hold about 1.7 KB: 8.5 MB here.
    const [warm, measured] = await runFixture<{ heapUsed: number }>("socket-churn.mjs", 1000, 5000);
    expect((measured?.heapUsed ?? Number.NaN) - (warm?.heapUsed ?? 0)).toBeLessThan(
      2 * 1024 * 1024,
    );
  }, 60_000);
});
