/**
 * `@eventbus/core/redis`: the Redis Pub/Sub transport, on node-redis. A
 * separate entry point, so users of the in-memory transport never load it.
 */
import { ClientClosedError, ClientOfflineError, createClient, ErrorReply } from "redis";
import { BusClosedError, PublishFailedError, SubscribeFailedError } from "../errors.js";
import { type HistoryScriptClient, RedisHistoryStore } from "../history/redis-store.js";
import type { HistorySettings, HistoryStore } from "../history/store.js";
import type { Transport, TransportSink } from "../transport.js";
import { type Client, connectionOptions } from "./redis-client.js";
import { RedisConnection } from "./redis-connection.js";
import {
  checkRedisUrl,
  messageBytes,
  type RedisConnectionOptions,
  type RedisSettings,
  resolveRedisSettings,
} from "./redis-options.js";

export {
  REDIS_DEFAULTS,
  REDIS_SOCKET_BUFFER_BYTES,
  type RedisConnectionOptions,
} from "./redis-options.js";

/**
 * A node-redis client whose settings (host, TLS, credentials, database...)
 * the transport copies with `duplicate()`. The transport never uses, connects
 * or closes the client itself, which stays the caller's.
 */
export interface RedisClientTemplate {
  /** The client's options; the transport keeps its `socket` settings (TLS certificates...). */
  readonly options?: { readonly socket?: object } | undefined;
  /** node-redis's `client.duplicate(overrides)`. */
  duplicate(overrides: object): unknown;
}

/**
 * Where the Redis transport connects: a `url`
 * (`redis[s]://[[user][:password]@]host[:port][/db]`) or a node-redis
 * `client` to copy, plus how it connects, waits and recovers.
 */
export type RedisTransportOptions = RedisConnectionOptions &
  (
    | { readonly url: string; readonly client?: never }
    | { readonly client: RedisClientTemplate; readonly url?: never }
  );

const noop = (): void => {};

const ignore = (): void => {};

/**
 * The Redis Pub/Sub transport. Each transport holds two connections: a
 * subscriber that does nothing but SUBSCRIBE/UNSUBSCRIBE (and PING), shared by
 * every subscription of the bus, and a publisher whose PUBLISH commands
 * node-redis pipelines (those made in one tick go out in one write).
 *
 * - Neither connection has a per-command timeout (node-redis's default arms a
 *   timer for each command and cost most of the publish throughput); a PING
 *   every `healthCheckIntervalMs` plus a socket idle timeout of twice that
 *   bound a hung server instead.
 * - A lost connection is replaced after a backoff with jitter; the new
 *   subscriber subscribes every live channel before the bus hears
 *   `reconnected` (with the downtime, the window in which messages may have
 *   been lost).
 * - `publish` while disconnected waits up to `publishTimeoutMs`, then fails
 *   with `NotConnectedError`; it never reports success for a message not sent.
 *
 * @example
 * import { EventBus } from "@eventbus/core";
 * import { createRedisTransport } from "@eventbus/core/redis";
 * const bus = new EventBus({ transport: createRedisTransport({ url: "redis://localhost:6379" }) });
 */
export class RedisTransport implements Transport {
  readonly #settings: RedisSettings;
  readonly #publisher: RedisConnection<Client>;
  readonly #subscriber: RedisConnection<Client>;
  #sink: TransportSink | undefined;
  #opened = false;
  #closing: Promise<void> | undefined;
  #connected = false;
  #downSince = 0;
  readonly #onMessage = (message: string, channel: string): void => {
    this.#sink?.message(channel, message);
  };

  /**
   * @throws {UnsupportedUrlError} the URL is not a valid `redis://` or `rediss://` URL.
   * @throws {RangeError} a timeout or delay is not a positive integer.
   */
  constructor(options: RedisTransportOptions) {
    this.#settings = resolveRedisSettings(options);
    if (options.url !== undefined) checkRedisUrl(options.url);
    const create = clientFactory(options, this.#settings);
    const changed = (): void => this.#connectionChanged();
    this.#publisher = new RedisConnection("publisher", this.#settings, {
      create,
      prepare: async () => {},
      farewell: async () => {},
      changed,
    });
    this.#subscriber = new RedisConnection("subscriber", this.#settings, {
      create,
      prepare: (client) => this.#resubscribe(client),
      farewell: (client) => client.unsubscribe(),
      changed,
    });
  }

  /**
   * Connects both connections. Rejects with `NotConnectedError` if they are not
   * up within `connectTimeoutMs`, at once with `ConnectionRejectedError` if the
   * server refuses them (wrong password...), with `BusClosedError` if closed first.
   */
  async open(sink: TransportSink): Promise<void> {
    this.#sink = sink;
    const deadline = performance.now() + this.#settings.connectTimeoutMs;
    const operation = `connecting waited ${this.#settings.connectTimeoutMs} ms`;
    this.#publisher.start();
    this.#subscriber.start();
    try {
      await Promise.all([
        this.#publisher.whenUp(deadline, operation),
        this.#subscriber.whenUp(deadline, operation),
      ]);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#opened = true;
    this.#connected = true;
    // Either connection may have dropped again while the other came up.
    this.#connectionChanged();
  }

  /**
   * PUBLISHes `data` on the publisher connection; resolves once the server has
   * accepted it.
   * @throws {NotConnectedError} disconnected for `publishTimeoutMs`; nothing was sent.
   * @throws {PublishFailedError} the connection failed with the command in flight: it may or may not have been published.
   * @throws {BusClosedError} the transport is closed.
   */
  publish(channel: string, data: string): Promise<void> {
    const client = this.#publisher.client;
    if (client === undefined) return this.#publishWhenUp(channel, data, undefined);
    // Connected: one `then` on node-redis's promise, no async frame (a burst holds thousands).
    let sent: Promise<unknown>;
    try {
      sent = client.sendCommand(["PUBLISH", channel, messageBytes(data)]);
    } catch (cause) {
      sent = Promise.reject(cause);
    }
    return sent.then(ignore, (cause: unknown) =>
      this.#publishFailed(channel, data, cause, undefined),
    );
  }

  /** Waits for the publisher connection (up to the deadline, set on the first wait), then publishes. */
  async #publishWhenUp(channel: string, data: string, since: number | undefined): Promise<void> {
    const deadline = since ?? performance.now() + this.#settings.publishTimeoutMs;
    const client = await this.#publisher.whenUp(
      deadline,
      `publish waited ${this.#settings.publishTimeoutMs} ms`,
    );
    try {
      await client.sendCommand(["PUBLISH", channel, messageBytes(data)]);
    } catch (cause) {
      await this.#publishFailed(channel, data, cause, deadline);
    }
  }

  /**
   * A PUBLISH the client refused before queueing it (the connection was lost)
   * was not sent, so it waits for the next connection; any other failure may
   * or may not have been published.
   */
  #publishFailed(
    channel: string,
    data: string,
    cause: unknown,
    deadline: number | undefined,
  ): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new BusClosedError());
    if (!(cause instanceof ClientClosedError || cause instanceof ClientOfflineError)) {
      return Promise.reject(new PublishFailedError(channel, { cause }));
    }
    return this.#publishWhenUp(channel, data, deadline);
  }

  /**
   * A {@link RedisHistoryStore} whose scripts run on the publisher connection
   * (made with `HISTORY_SCRIPTS`), waiting for it while disconnected as
   * `publish` does: up to `publishTimeoutMs`, then `NotConnectedError`.
   */
  history(settings: HistorySettings): HistoryStore {
    const waited = this.#settings.publishTimeoutMs;
    return new RedisHistoryStore({
      ...settings,
      client: async () => {
        if (this.#closing !== undefined) throw new BusClosedError();
        const client =
          this.#publisher.client ??
          (await this.#publisher.whenUp(performance.now() + waited, `history waited ${waited} ms`));
        return client satisfies HistoryScriptClient;
      },
    });
  }

  /**
   * SUBSCRIBEs on the subscriber connection; resolves once the server has
   * confirmed every channel. While disconnected it waits up to
   * `connectTimeoutMs` for the next connection, which subscribes it.
   * @throws {NotConnectedError} disconnected for `connectTimeoutMs`.
   * @throws {SubscribeFailedError} the server refused the subscription.
   * @throws {BusClosedError} the transport is closed.
   */
  async subscribe(channels: readonly string[]): Promise<void> {
    const client = this.#subscriber.client;
    if (client !== undefined) {
      try {
        await client.subscribe([...channels], this.#onMessage);
        return;
      } catch (cause) {
        if (this.#closing !== undefined) throw new BusClosedError();
        if (cause instanceof ErrorReply) throw new SubscribeFailedError(channels, { cause });
        // The connection was lost: the next one subscribes every live channel, these included.
      }
    }
    const waited = this.#settings.connectTimeoutMs;
    await this.#subscriber.whenUp(performance.now() + waited, `subscribe waited ${waited} ms`);
  }

  /** UNSUBSCRIBEs; a lost connection took the subscription with it, and the next one will not renew it. */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    const client = this.#subscriber.client;
    if (client === undefined) return;
    try {
      await client.unsubscribe([...channels], this.#onMessage);
    } catch {
      // Only a lost connection fails an UNSUBSCRIBE, and it ended the subscription anyway.
    }
  }

  /**
   * UNSUBSCRIBEs everything and closes both connections gracefully, letting
   * publishes in flight finish for up to `publishTimeoutMs`, then destroys
   * what is left: no socket or timer outlives it. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      this.#publisher.close(this.#settings.publishTimeoutMs),
      this.#subscriber.close(this.#settings.publishTimeoutMs),
    ]).then(noop);
    return this.#closing;
  }

  /**
   * Brings a new subscriber connection to the bus's live channels: subscribes
   * them all, then catches up with channels added or removed meanwhile, until
   * the server's set and the live set agree.
   */
  async #resubscribe(client: Client): Promise<void> {
    const onServer = new Set<string>();
    for (;;) {
      const live = new Set(this.#sink?.liveChannels());
      const missing = [...live].filter((channel) => !onServer.has(channel));
      const extra = [...onServer].filter((channel) => !live.has(channel));
      if (missing.length === 0 && extra.length === 0) return;
      if (missing.length > 0) {
        await client.subscribe(missing, this.#onMessage);
        for (const channel of missing) onServer.add(channel);
      }
      if (extra.length > 0) {
        await client.unsubscribe(extra, this.#onMessage);
        for (const channel of extra) onServer.delete(channel);
      }
    }
  }

  /** Reports the transport as up when both connections are, down when either is not. */
  #connectionChanged(): void {
    if (!this.#opened || this.#closing !== undefined) return;
    const connected = this.#publisher.client !== undefined && this.#subscriber.client !== undefined;
    if (connected === this.#connected) return;
    this.#connected = connected;
    if (!connected) {
      this.#downSince = performance.now();
      const error = this.#subscriber.client === undefined ? this.#subscriber.lastError : undefined;
      const cause = error ?? this.#publisher.lastError;
      this.#sink?.connection(
        cause === undefined ? { state: "disconnected" } : { state: "disconnected", error: cause },
      );
    } else {
      const downtimeMs = Math.round(performance.now() - this.#downSince);
      this.#sink?.connection({ state: "reconnected", downtimeMs });
    }
  }
}

/**
 * Builds a Redis transport; see {@link RedisTransport}.
 * @throws {UnsupportedUrlError} the URL is not a valid `redis://` or `rediss://` URL.
 * @throws {RangeError} a timeout or delay is not a positive integer.
 */
export function createRedisTransport(options: RedisTransportOptions): RedisTransport {
  return new RedisTransport(options);
}

/**
 * Makes the factory of fresh clients, with the settings of
 * {@link connectionOptions}; a template client's own `socket` settings (TLS
 * certificates...) are kept under them.
 */
function clientFactory(options: RedisTransportOptions, settings: RedisSettings): () => Client {
  const { socket, common } = connectionOptions(settings);
  const { client, url } = options;
  if (client !== undefined) {
    return () =>
      client.duplicate({ ...common, socket: { ...client.options?.socket, ...socket } }) as Client;
  }
  if (url === undefined) throw new TypeError("the Redis transport needs a url or a client");
  return () => createClient({ ...common, url, socket: { ...socket } });
}
