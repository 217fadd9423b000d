/**
 * One supervised connection of the Redis transport: it connects a fresh
 * node-redis client, prepares it (the subscriber re-subscribes its channels),
 * and when the client dies replaces it after a backoff with jitter. node-redis
 * is told never to reconnect by itself, so every connection starts with a
 * clean client and the transport, not node-redis, decides what is subscribed.
 */
import { ErrorReply } from "redis";
import { BusClosedError, ConnectionRejectedError, NotConnectedError } from "../errors.js";
import { DeadlineWaiters } from "./deadline-waiters.js";
import { type RedisSettings, reconnectDelay } from "./redis-options.js";

/** The part of a node-redis client a {@link RedisConnection} drives. */
export interface SupervisedClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: "error" | "terminated", listener: (error: Error) => void): unknown;
}

/** What a {@link RedisConnection} is told to do at each step. */
export interface ConnectionHooks<C extends SupervisedClient> {
  /** Makes a new, unconnected client. */
  create(): C;
  /** Runs on each new connection before it counts as up; if it throws, the attempt failed. */
  prepare(client: C): Promise<void>;
  /** Runs on close while the connection is up, before it is dropped (e.g. UNSUBSCRIBE). */
  farewell(client: C): Promise<void>;
  /** The connection came up or went down. */
  changed(): void;
}

/**
 * Keeps one connection to the server up, and lets callers wait for it with a
 * deadline. One timer serves every waiter (the earliest deadline), so a burst
 * of publishes during an outage does not arm a timer each.
 */
export class RedisConnection<C extends SupervisedClient> {
  readonly #name: string;
  readonly #hooks: ConnectionHooks<C>;
  readonly #settings: RedisSettings;
  readonly #waiters = new DeadlineWaiters<C>((operation) => this.#timedOut(operation));
  #client: C | undefined;
  #attempting: C | undefined;
  #attempt = 0;
  #everUp = false;
  #closed = false;
  #lastError: Error | undefined;
  #rejection: ConnectionRejectedError | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(name: string, settings: RedisSettings, hooks: ConnectionHooks<C>) {
    this.#name = name;
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** The connected client, or `undefined` while (re)connecting or closed. */
  get client(): C | undefined {
    return this.#client;
  }

  /** Why the last connection or attempt failed, if one did. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Starts connecting; see {@link whenUp} to wait for it. */
  start(): void {
    this.#connect();
  }

  /**
   * The connected client, once there is one.
   * @param deadline - a `performance.now()` time.
   * @param operation - what waits, for the error message (`"publish waited 5000 ms"`).
   * @throws {NotConnectedError} if the deadline passes first.
   * @throws {ConnectionRejectedError} if the server refused the first connection.
   * @throws {BusClosedError} if the connection is closed first.
   */
  whenUp(deadline: number, operation: string): Promise<C> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    if (this.#closed) return Promise.reject(this.#rejection ?? new BusClosedError());
    return this.#waiters.wait(deadline, operation);
  }

  /**
   * Gives up the current connection as if it had been lost (it answers, but
   * no longer does its job: a deaf subscriber) and connects a new one after
   * the backoff. Nothing happens while down or closed.
   */
  drop(reason: Error): void {
    const client = this.#client;
    if (client !== undefined && !this.#closed) this.#lost(client, reason);
  }

  /**
   * Drops the connection for good: waiters fail with `BusClosedError`; an up
   * connection gets `farewell`, then a graceful close, for at most `graceMs`,
   * before its socket is destroyed.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#waiters.fail(new BusClosedError());
    this.#attempting?.destroy();
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const graceEnded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const goodbye = this.#hooks.farewell(client).then(() => client.close());
    try {
      await Promise.race([goodbye.catch(() => {}), graceEnded]);
    } finally {
      clearTimeout(timer);
      client.destroy();
    }
  }

  #connect(): void {
    if (this.#closed) return;
    const client = this.#hooks.create();
    this.#attempting = client;
    client.on("error", (error) => {
      this.#lastError = error;
    });
    client.on("terminated", (error) => {
      if (this.#client === client) this.#lost(client, error);
    });
    client
      .connect()
      .then(() => this.#hooks.prepare(client))
      .then(
        () => this.#up(client),
        (error: unknown) => this.#failed(client, error),
      );
  }

  #up(client: C): void {
    this.#attempting = undefined;
    if (this.#closed || !client.isReady) {
      this.#failed(
        client,
        new Error(`${this.#name} connection closed while it was being prepared`),
      );
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    this.#everUp = true;
    this.#waiters.settle(client);
    this.#hooks.changed();
  }

  #failed(client: C, cause: unknown): void {
    if (this.#attempting === client) this.#attempting = undefined;
    client.destroy();
    if (this.#closed) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.#lastError = error;
    if (!this.#everUp && isRejection(error)) {
      this.#closed = true;
      this.#rejection = new ConnectionRejectedError(
        `the Redis server refused the ${this.#name} connection: ${error.message}`,
        { cause: error },
      );
      this.#waiters.fail(this.#rejection);
      return;
    }
    this.#retryLater();
  }

  #lost(client: C, cause: Error): void {
    this.#client = undefined;
    this.#lastError = cause;
    // node-redis fails the commands in flight with `cause` right after this event; destroy after it.
    queueMicrotask(() => client.destroy());
    this.#hooks.changed();
    this.#retryLater();
  }

  #retryLater(): void {
    const delay = reconnectDelay(this.#attempt++, this.#settings);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #timedOut(operation: string): NotConnectedError {
    const cause = this.#lastError;
    const detail = cause === undefined ? "" : ` (last error: ${cause.message})`;
    return new NotConnectedError(
      `${operation}, but the ${this.#name} connection to Redis was not up${detail}`,
      { cause },
    );
  }
}

/** Server replies that mean "not now" rather than "never". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * True when retrying would not help: the server answered the handshake with
 * an error (wrong password, no permission, no such database), or TLS refused
 * its certificate or protocol.
 */
export function isRejection(error: Error): boolean {
  if (error instanceof ErrorReply) return !TRANSIENT_REPLY.test(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  return (
    typeof code === "string" &&
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|^ERR_SSL_|^ERR_TLS_/.test(code)
  );
}
