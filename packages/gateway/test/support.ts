/**
 * Test fixtures: gateways on free loopback ports closed after each test, an
 * SSE client (the eventsource package) that records what it receives, a raw
 * HTTP reader for byte-level checks, and waiting on conditions with deadlines.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decodeEvent, EVENT_TYPES, type Event, type EventType } from "@eventbus/core";
import { EventSource } from "eventsource";
import { createClient } from "redis";
import { onTestFinished } from "vitest";
import { ChannelMessageSchema } from "../src/http-schemas.js";
import { createGateway, type Gateway, type GatewayOptions, mintToken } from "../src/index.js";

/** The shared secret of gateways with access control in tests (at least 32 bytes). */
export const SECRET = "a-test-secret-of-at-least-32-bytes-0123456789";

/** A fresh UUID. */
export const uuid = (): string => randomUUID();

/**
 * Polls `check` until it returns something other than `undefined` or `false`,
 * and returns that; fails with `what` once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Runs a script of test/fixtures under `node --expose-gc` with `args` and
 * resolves with the JSON record it printed on each line. Fixtures import the
 * built gateway (the root `npm test` builds first).
 */
export async function runFixture<T>(name: string, ...args: number[]): Promise<T[]> {
  const fixture = fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--expose-gc", fixture, ...args.map(String)],
    { timeout: 60_000 },
  );
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as T);
}

/** A listening gateway and its base URL; closed when the test finishes. */
export async function startGateway(
  options: GatewayOptions = {},
): Promise<{ gateway: Gateway; url: string }> {
  const gateway = createGateway({ logLevel: "silent", ...options });
  onTestFinished(() => gateway.close());
  const url = await gateway.listen({ host: "127.0.0.1", port: 0 });
  return { gateway, url };
}

const newRawRedis = (url: string) => createClient({ url });

/** A plain node-redis client. */
export type RawRedis = ReturnType<typeof newRawRedis>;

/**
 * A plain node-redis client on `url`, to publish raw messages as another
 * publisher would; destroyed when the test finishes.
 */
export async function rawRedis(url: string): Promise<RawRedis> {
  const client = newRawRedis(url);
  client.on("error", () => {});
  await client.connect();
  onTestFinished(() => client.destroy());
  return client;
}

/** A token signed with {@link SECRET}, valid for an hour unless `ttlSeconds` says otherwise. */
export function tokenFor(grant: {
  projects?: string[];
  agents?: string[];
  publish?: boolean;
  ttlSeconds?: number;
}): Promise<string> {
  return mintToken({ ttlSeconds: 3600, ...grant, secret: SECRET });
}

/** POSTs `body` as JSON to `url` with optional headers. */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Publishes `count` events to a project over HTTP, payload `{ n }` from
 * `from` on, `issue.created` for an even `n` and `issue.closed` for an odd
 * one; resolves with their ids, in order.
 * @throws {Error} a publish was not accepted (202).
 */
export async function publishMany(
  url: string,
  project: string,
  count: number,
  from = 0,
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) {
    const response = await postJson(`${url}/v1/projects/${project}/events`, {
      type: n % 2 === 0 ? "issue.created" : "issue.closed",
      actor_type: "system",
      payload: { n },
    });
    if (response.status !== 202) throw new Error(`publish answered ${response.status}`);
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

/** The reason the gateway gave in an `event: error` message. */
export interface EndReason {
  code: string;
  message: string;
}

/**
 * An SSE client following one URL: the events it received (decoded from the
 * wire JSON in `data:`), the reasons in `event: error` messages, and the HTTP
 * status of a refused connection. Closed when the test finishes. On a
 * multi-channel stream (`multiChannel`), `data:` must be a `ChannelMessage`
 * (checked with its schema) and `channels` records each message's channel.
 */
export class Follower {
  readonly events: Event[] = [];
  /** `id:` of each message, in order. */
  readonly ids: string[] = [];
  /** The `channel` of each message of a multi-channel stream, in order. */
  readonly channels: string[] = [];
  readonly endReasons: EndReason[] = [];
  /** The `data:` of each `event: start` message (history on), in order. */
  readonly starts: { position: string | null; since: string | null; replayed: number }[] = [];
  /** The `data:` of each `event: reload` message (history on), in order. */
  readonly reloads: { reason: string; after: string | null; position: string | null }[] = [];
  /** What arrived, in order: each event's id, `start` or `reload`. */
  readonly sequence: string[] = [];
  /** The HTTP status when the connection was refused (the source is then closed). */
  refusedWith: number | undefined;
  readonly source: EventSource;
  #opens = 0;

  constructor(
    url: string,
    headers: Record<string, string> = {},
    options: { readonly multiChannel?: boolean } = {},
  ) {
    this.source = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
    });
    this.source.addEventListener("open", () => {
      this.#opens++;
    });
    for (const type of EVENT_TYPES) {
      this.source.addEventListener(type, (message) => {
        if (options.multiChannel === true) {
          const { channel, event } = ChannelMessageSchema.parse(JSON.parse(message.data));
          this.channels.push(channel);
          this.events.push(decodeEvent(JSON.stringify(event)));
        } else {
          this.events.push(decodeEvent(message.data));
        }
        this.ids.push(message.lastEventId);
        this.sequence.push(this.events.at(-1)?.id ?? "");
      });
    }
    for (const name of ["start", "reload"] as const) {
      this.source.addEventListener(name, (message) => {
        (name === "start" ? this.starts : this.reloads).push(JSON.parse(message.data));
        this.sequence.push(name);
      });
    }
    this.source.addEventListener("error", (event) => {
      if (event instanceof MessageEvent) this.endReasons.push(JSON.parse(String(event.data)));
      else if (event.code !== undefined) this.refusedWith = event.code;
    });
    onTestFinished(() => this.source.close());
  }

  /** Resolves once the stream is open: the gateway has confirmed its subscription. */
  opened(): Promise<true> {
    return waitFor("the stream to open", () => this.#opens > 0 || undefined);
  }

  /** Resolves once the connection was refused, with the HTTP status. */
  refused(): Promise<number> {
    return waitFor("the connection to be refused", () => this.refusedWith);
  }

  /** Resolves once `count` `event: start` messages have arrived. */
  started(count = 1): Promise<true> {
    return waitFor(`${count} start messages`, () => this.starts.length >= count || undefined);
  }

  /** Resolves once `count` events have arrived. */
  received(count: number): Promise<Event[]> {
    return waitFor(`${count} events`, () => this.events.length >= count && this.events);
  }

  /** The types of the events received so far. */
  types(): EventType[] {
    return this.events.map((event) => event.type);
  }
}

/**
 * A TCP proxy in front of a gateway that a test can cut: {@link cut} drops
 * every connection through it and holds new ones until {@link restore}, as
 * a network outage between a client and the gateway would. Closed when the
 * test finishes.
 */
export class CuttableProxy {
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #held: Socket[] = [];
  #down = false;
  /** Connections made through the proxy so far (the client's reconnects included). */
  connections = 0;

  private constructor(target: URL) {
    this.#target = { host: target.hostname, port: Number(target.port) };
    this.#server = createServer((client) => {
      this.connections++;
      this.#sockets.add(client);
      client.on("close", () => this.#sockets.delete(client));
      client.on("error", () => {});
      if (this.#down) this.#held.push(client);
      else this.#pipe(client);
    });
    onTestFinished(() => {
      for (const socket of this.#sockets) socket.destroy();
      this.#server.close();
    });
  }

  /** A proxy to `gatewayUrl`; resolves with it and its own base URL. */
  static async start(gatewayUrl: string): Promise<{ proxy: CuttableProxy; url: string }> {
    const proxy = new CuttableProxy(new URL(gatewayUrl));
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    const address = proxy.#server.address() as AddressInfo;
    return { proxy, url: `http://127.0.0.1:${address.port}` };
  }

  /** Drops every open connection; new ones wait until {@link restore}. */
  cut(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Lets the held connections and new ones through. */
  restore(): void {
    this.#down = false;
    for (const client of this.#held.splice(0)) if (!client.destroyed) this.#pipe(client);
  }

  /** Resolves once a connection made while the proxy was cut waits for {@link restore}. */
  holding(): Promise<true> {
    return waitFor("a reconnect to wait at the cut", () => this.#held.length > 0 || undefined);
  }

  #pipe(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    this.#sockets.add(upstream);
    upstream.on("close", () => {
      this.#sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => {});
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  }
}

/** An HTTP response read as raw text, for checks on the exact bytes of a stream. */
export class RawStream {
  text = "";
  response: IncomingMessage | undefined;
  ended = false;
  readonly request: ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.request = request(url, { headers });
    this.request.on("response", (response) => {
      this.response = response;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        this.text += chunk;
      });
      response.on("end", () => {
        this.ended = true;
      });
      response.on("error", () => {
        this.ended = true;
      });
    });
    this.request.on("error", () => {
      this.ended = true;
    });
    this.request.end();
    onTestFinished(() => {
      this.request.destroy();
    });
  }

  /** Resolves once the response's headers have arrived. */
  started(): Promise<IncomingMessage> {
    return waitFor("the response to start", () => this.response);
  }

  /** Resolves once the text received so far contains `fragment`. */
  contains(fragment: string): Promise<true> {
    return waitFor(`the stream to contain ${JSON.stringify(fragment)}`, () =>
      this.text.includes(fragment),
    );
  }

  /** Resolves once the response has ended. */
  finished(): Promise<true> {
    return waitFor("the stream to end", () => this.ended);
  }
}

/**
 * Sends `text` as is on a new socket to `url`'s host and port, and resolves
 * with everything the server wrote back once it closed the connection (or the
 * client's write side, after `endAfterWrite`, was answered and closed).
 */
export function rawExchange(url: string, text: string, endAfterWrite = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(received));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(text.slice(0, 80))}`));
    });
    socket.write(text, () => {
      if (endAfterWrite) socket.end();
    });
    onTestFinished(() => {
      socket.destroy();
    });
  });
}

/** The status and JSON body of a raw HTTP/1.1 response. */
export function parseRawResponse(text: string): { status: number; body: unknown } {
  const [head = "", body = ""] = text.split("\r\n\r\n", 2);
  return { status: Number(head.split(" ")[1]), body: JSON.parse(body) };
}

/** The `eventbus` command as npm links it; it runs the built CLI (root `npm test` builds first). */
const CLI = new URL("../bin/eventbus.js", import.meta.url);

/** A running `eventbus` child process and what it printed; killed when the test finishes. */
export class CliProcess {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process exited and its output was read. */
  readonly exited: Promise<number | string>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [fileURLToPath(CLI), ...args], {
      env: { ...process.env, EVENTBUS_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      // "close", not "exit": output still in the pipes when the process exits arrives after "exit".
      this.child.once("close", (code, signal) => resolve(code ?? signal ?? "unknown"));
    });
    onTestFinished(() => {
      if (this.child.exitCode === null && this.child.signalCode === null)
        this.child.kill("SIGKILL");
    });
  }

  /** Resolves with the first match of `pattern` in stdout, once there is one. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> {
    return waitFor(
      `stdout to match ${pattern}`,
      () => this.stdout.match(pattern) ?? undefined,
      timeoutMs,
    );
  }

  /** Resolves once stderr matches `pattern`. */
  said(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> {
    return waitFor(
      `stderr to match ${pattern}`,
      () => this.stderr.match(pattern) ?? undefined,
      timeoutMs,
    );
  }
}

/** Runs `eventbus <args>` to its end; resolves with its exit code and output. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const cli = new CliProcess(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/** Starts `eventbus serve` on a free port; resolves once it printed its URL. */
export async function serveCli(
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<{ cli: CliProcess; url: string }> {
  const cli = new CliProcess(["serve", "--port", "0", ...args], env);
  const [, url] = await cli.printed(/listening on (http:\/\/\S+)/);
  return { cli, url: url ?? "" };
}
