/**
 * `@eventbus/core/redis-cluster`: the Redis Cluster transport, on sharded
 * Pub/Sub (Redis 7 or later) through node-redis. A separate entry point, so
 * users of the other transports never load it.
 */
import { randomBytes } from "node:crypto";
import { ClientClosedError, ClientOfflineError, createClient } from "redis";
import {
  BusClosedError,
  ConnectionRejectedError,
  EventBusError,
  NotConnectedError,
  PublishFailedError,
  SubscribeFailedError,
} from "../errors.js";
import { type HistoryScriptClient, RedisHistoryStore } from "../history/redis-store.js";
import type { HistorySettings, HistoryStore } from "../history/store.js";
import type { Transport, TransportSink } from "../transport.js";
import {
  type ClusterTopology,
  type NodeAddress,
  probeChannelFor,
  slotOf,
} from "./cluster-topology.js";
import { readTopology } from "./cluster-topology-reader.js";
import { DeadlineWaiters } from "./deadline-waiters.js";
import { type Client, connectionOptions } from "./redis-client.js";
import { ClusterNode, isRedirect, RefusedSubscription } from "./redis-cluster-node.js";
import {
  type ClusterEndpoints,
  clusterEndpoints,
  type RedisClusterConnectionOptions,
} from "./redis-cluster-options.js";
import { isRejection } from "./redis-connection.js";
import {
  messageBytes,
  type RedisSettings,
  reconnectDelay,
  resolveRedisSettings,
} from "./redis-options.js";

export type { RedisClusterConnectionOptions } from "./redis-cluster-options.js";

/**
 * Where the cluster transport connects: a seed URL
 * (`redis+cluster://[[user][:password]@]host[:port]`, `rediss+cluster://` for
 * TLS), more seeds if wanted, and how it connects, waits and recovers.
 */
export interface RedisClusterTransportOptions extends RedisClusterConnectionOptions {
  readonly url: string;
}

const ignore = (): void => {};

/**
 * The Redis Cluster transport: sharded Pub/Sub, so each channel's traffic
 * stays inside the shard that serves its slot.
 *
 * - Two connections per master, each supervised as the single-server
 *   transport's: a publisher (`SPUBLISH`, the history scripts) and a
 *   subscriber holding the `SSUBSCRIBE`s of the live channels that master
 *   serves, one command per slot (one `SSUBSCRIBE` may name channels of one
 *   slot only).
 * - The topology (`CLUSTER SLOTS`) is read at the start, every
 *   `healthCheckIntervalMs`, and at once on any hint that it changed: a
 *   connection lost, a `MOVED` or `CLUSTERDOWN` answer, a subscription the
 *   server dropped because its slot moved. Then channels are resubscribed on
 *   their new masters, and the bus hears `disconnected`, then `reconnected`
 *   with the channels that were affected.
 * - `publish` while a channel's master is unreachable or the cluster is
 *   failing over waits (and retries) up to `publishTimeoutMs`, then fails
 *   with `NotConnectedError`; a publish in flight on a connection that failed
 *   fails with `PublishFailedError`. Never a success for a message not sent.
 *
 * @example
 * import { EventBus } from "@eventbus/core";
 * import { createRedisClusterTransport } from "@eventbus/core/redis-cluster";
 * const bus = new EventBus({
 *   transport: createRedisClusterTransport({ url: "redis+cluster://10.0.0.1:6379", seeds: ["10.0.0.2:6379"] }),
 * });
 */
export class RedisClusterTransport implements Transport {
  readonly #settings: RedisSettings;
  readonly #endpoints: ClusterEndpoints;
  readonly #nodes = new Map<string, ClusterNode>();
  readonly #retiring = new Set<Promise<void>>();
  /** Channels whose subscription went down since the last `reconnected`. */
  readonly #affected = new Set<string>();
  /** Woken by any change, and by the retry tick: publishes and script runs wait here. */
  readonly #changes = new DeadlineWaiters<void>((operation) => this.#timedOut(operation));
  /** Woken when every master is up and in step. */
  readonly #healthy = new DeadlineWaiters<void>((operation) => this.#timedOut(operation));
  #topology: ClusterTopology | undefined;
  #sink: TransportSink | undefined;
  #opened = false;
  #closing: Promise<void> | undefined;
  #connected = false;
  #downSince = 0;
  /** A hint said the topology changed, and no topology read since has caught up with it. */
  #stale = false;
  /** Hints so far: a read that began before the last one cannot clear `#stale`. */
  #hints = 0;
  /** The node whose hint came last: its own view knows the change, so it is asked first. */
  #askFirst: string | undefined;
  readonly #probePrefix = `eventbus-probe:${randomBytes(6).toString("hex")}:`;
  #lastError: Error | undefined;
  #recovering: Promise<void> | undefined;
  #wakeRecovery: (() => void) | undefined;
  #recoveryTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;

  /**
   * @throws {UnsupportedUrlError} the URL or a seed is not valid.
   * @throws {RangeError} a timeout or delay is not a positive integer.
   */
  constructor(options: RedisClusterTransportOptions) {
    this.#settings = resolveRedisSettings(options);
    this.#endpoints = clusterEndpoints(options.url, options.seeds);
  }

  /**
   * Reads the topology from a seed, connects to every master and resolves once
   * all are up. Rejects with `NotConnectedError` if that takes longer than
   * `connectTimeoutMs`, at once with `ConnectionRejectedError` if the seed
   * refuses (wrong password, cluster support disabled...), with
   * `BusClosedError` if closed first.
   */
  async open(sink: TransportSink): Promise<void> {
    this.#sink = sink;
    const deadline = performance.now() + this.#settings.connectTimeoutMs;
    const operation = `connecting waited ${this.#settings.connectTimeoutMs} ms`;
    try {
      this.#apply(await this.#firstTopology(deadline, operation));
      // Reads the topology again until every master is up: one may be failing over.
      this.#recover();
      await this.#whenHealthy(deadline, operation);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#opened = true;
    this.#connected = true;
    // Checked after the turn's I/O (setImmediate), so a stalled event loop does not
    // miss a probe's echo waiting in the socket and call a healthy connection deaf.
    this.#refreshTimer = setInterval(
      () => setImmediate(() => this.#periodicCheck()),
      this.#settings.healthCheckIntervalMs,
    );
    this.#connectionChanged();
  }

  /**
   * SPUBLISHes `data` on the publisher connection of the channel's master;
   * resolves once the server has accepted it.
   * @throws {NotConnectedError} the master was unreachable, or the cluster failing over, for `publishTimeoutMs`: nothing was sent.
   * @throws {PublishFailedError} the connection failed with the command in flight: it may or may not have been published.
   * @throws {BusClosedError} the transport is closed.
   */
  publish(channel: string, data: string): Promise<void> {
    const client = this.#stale ? undefined : this.#publisherOf(channel);
    if (client === undefined) return this.#publishRouted(channel, data);
    // Connected: one `then` on node-redis's promise, no async frame (a burst holds thousands).
    let sent: Promise<unknown>;
    try {
      sent = client.sendCommand(["SPUBLISH", channel, messageBytes(data)]);
    } catch (cause) {
      sent = Promise.reject(cause);
    }
    return sent.then(ignore, (cause: unknown) => {
      if (this.#closing !== undefined) throw new BusClosedError();
      if (!this.#notSent(cause)) throw new PublishFailedError(channel, { cause });
      return this.#publishRouted(channel, data);
    });
  }

  async #publishRouted(channel: string, data: string): Promise<void> {
    const waited = this.#settings.publishTimeoutMs;
    try {
      await this.#routed(
        channel,
        (client) => client.sendCommand(["SPUBLISH", channel, messageBytes(data)]),
        `publish waited ${waited} ms`,
      );
    } catch (cause) {
      throw cause instanceof EventBusError ? cause : new PublishFailedError(channel, { cause });
    }
  }

  /**
   * A {@link RedisHistoryStore} whose scripts run on the publisher connection
   * of the channel's master (the channel's keys and its shard channel share
   * its slot) and publish with `SPUBLISH`. While that master is unreachable
   * an operation waits and retries up to `publishTimeoutMs`, as `publish`
   * does, then fails with `NotConnectedError`.
   */
  history(settings: HistorySettings): HistoryStore {
    const waited = `history waited ${this.#settings.publishTimeoutMs} ms`;
    const scripts: HistoryScriptClient = {
      eventbusHistoryPublish: (call) =>
        this.#routed(call.channel, (client) => client.eventbusHistoryPublish(call), waited),
      eventbusHistoryRead: (call) =>
        this.#routed(call.channel, (client) => client.eventbusHistoryRead(call), waited),
    };
    return new RedisHistoryStore({
      ...settings,
      publishCommand: "SPUBLISH",
      client: () => scripts,
    });
  }

  /**
   * SSUBSCRIBEs on the subscriber connections of the channels' masters, one
   * command per slot; resolves once the servers confirmed every channel.
   * While a master is unreachable or the topology is changing, it waits up to
   * `connectTimeoutMs` for the cluster to be in step again, which subscribes it.
   * @throws {NotConnectedError} not in step for `connectTimeoutMs`.
   * @throws {SubscribeFailedError} the server refused the subscription.
   * @throws {BusClosedError} the transport is closed.
   */
  async subscribe(channels: readonly string[]): Promise<void> {
    if (this.#closing !== undefined) throw new BusClosedError();
    // A hint not caught up with yet: the recovery under way subscribes them where they belong.
    let wait = this.#stale;
    const refused: unknown[] = [];
    await Promise.all(
      [...(wait ? [] : this.#byNode(channels))].map(async ([node, mine]) => {
        try {
          if (node === undefined || !(await node.subscribe(mine))) wait = true;
        } catch (cause) {
          if (cause instanceof RefusedSubscription) refused.push(cause.cause);
          else if (isRedirect(cause)) this.#hint(node);
          wait = true;
        }
      }),
    );
    if (this.#closing !== undefined) throw new BusClosedError();
    if (refused.length > 0) throw new SubscribeFailedError(channels, { cause: refused[0] });
    if (!wait) return;
    const waited = this.#settings.connectTimeoutMs;
    await this.#whenHealthy(performance.now() + waited, `subscribe waited ${waited} ms`);
  }

  /** SUNSUBSCRIBEs where each channel is held; a lost connection took the subscription with it. */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    await Promise.all(
      [...this.#nodes.values()].map((node) =>
        node.unsubscribe(channels.filter((channel) => node.holds(channel))),
      ),
    );
  }

  /**
   * SUNSUBSCRIBEs everything and closes every connection, letting publishes in
   * flight finish for up to `publishTimeoutMs`, then destroys what is left: no
   * socket or timer outlives it. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    clearInterval(this.#refreshTimer);
    clearTimeout(this.#recoveryTimer);
    this.#wakeRecovery?.();
    this.#changes.fail(new BusClosedError());
    this.#healthy.fail(new BusClosedError());
    const grace = this.#settings.publishTimeoutMs;
    await Promise.all([
      ...[...this.#nodes.values()].map((node) => node.close(grace)),
      ...this.#retiring,
    ]);
  }

  /**
   * Runs `run` on the publisher connection of `channel`'s master, retrying
   * (after the next change, or a short tick) while it was not sent: the
   * master is unreachable, the topology changed (`MOVED`, or a hint not yet
   * caught up with: a master that was demoted still takes SPUBLISH and
   * answers 0), the slot is migrating (`ASK`, `TRYAGAIN`) or the cluster is
   * failing over (`CLUSTERDOWN`), up to `publishTimeoutMs`.
   * @throws {NotConnectedError} still not sent at the deadline.
   * @throws {BusClosedError} the transport is closed.
   * @throws {Error} anything else `run` threw: it may or may not have run.
   */
  async #routed<T>(
    channel: string,
    run: (client: Client) => Promise<T>,
    waited: string,
  ): Promise<T> {
    const deadline = performance.now() + this.#settings.publishTimeoutMs;
    for (;;) {
      if (this.#closing !== undefined) throw new BusClosedError();
      const client = this.#stale ? undefined : this.#publisherOf(channel);
      if (client !== undefined) {
        try {
          return await run(client);
        } catch (cause) {
          if (this.#closing !== undefined) throw new BusClosedError();
          if (!this.#notSent(cause)) throw cause;
          if (cause instanceof Error) this.#lastError = cause;
        }
      }
      const tick = performance.now() + this.#settings.reconnectInitialDelayMs;
      try {
        await this.#changes.wait(Math.min(deadline, tick), waited);
      } catch (error) {
        if (performance.now() >= deadline || this.#closing !== undefined) throw error;
      }
    }
  }

  /** Whether `cause` says the command was not sent, or refused before running; a redirect also marks the topology stale. */
  #notSent(cause: unknown): boolean {
    if (cause instanceof ClientClosedError || cause instanceof ClientOfflineError) return true;
    if (!isRedirect(cause)) return false;
    if (/^(MOVED|CLUSTERDOWN)\b/.test((cause as Error).message)) this.#hint(undefined);
    return true;
  }

  #publisherOf(channel: string): Client | undefined {
    const owner = this.#topology?.ownerOf(slotOf(channel));
    return owner === undefined ? undefined : this.#nodes.get(owner)?.publisher.client;
  }

  /** `channels` by the node serving them (`undefined`: no known master serves their slot). */
  #byNode(channels: Iterable<string>): Map<ClusterNode | undefined, string[]> {
    const groups = new Map<ClusterNode | undefined, string[]>();
    for (const channel of channels) {
      const owner = this.#topology?.ownerOf(slotOf(channel));
      const node = owner === undefined ? undefined : this.#nodes.get(owner);
      const group = groups.get(node);
      if (group === undefined) groups.set(node, [channel]);
      else group.push(channel);
    }
    return groups;
  }

  async #whenHealthy(deadline: number, operation: string): Promise<void> {
    if (this.#closing !== undefined) throw new BusClosedError();
    if (!this.#isHealthy()) await this.#healthy.wait(deadline, operation);
  }

  /** Every master of the topology is up and in step, and nothing says the topology is stale. */
  #isHealthy(): boolean {
    const topology = this.#topology;
    if (topology === undefined || this.#stale) return false;
    return topology.masters.every((key) => this.#nodes.get(key)?.inStep === true);
  }

  #newNode(address: NodeAddress): ClusterNode {
    const options = { address, settings: this.#settings, probePrefix: this.#probePrefix };
    return new ClusterNode(options, {
      create: (at) => this.#newClient(at),
      wanted: (node) => this.#wanted(node),
      message: (channel, data) => this.#sink?.message(channel, data),
      moved: (node, channel) => {
        this.#affected.add(channel);
        this.#hint(node);
      },
      suspect: (node, reason) => {
        this.#lastError = reason;
        this.#hint(node);
      },
      changed: (node, lost) => {
        for (const channel of lost) this.#affected.add(channel);
        if (node.publisher.client === undefined || node.subscriber.client === undefined) {
          const error = node.subscriber.lastError ?? node.publisher.lastError;
          if (error !== undefined) this.#lastError = error;
          this.#recover();
        }
        this.#connectionChanged();
      },
    });
  }

  #newClient(address: NodeAddress): Client {
    const { socket, common } = connectionOptions(this.#settings);
    const { username, password, tls } = this.#endpoints;
    return createClient({
      ...common,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      socket: { ...socket, host: address.host, port: address.port, ...(tls ? { tls } : {}) },
    }) as Client;
  }

  /** The bus's live channels `node` serves now. */
  *#wanted(node: ClusterNode): Generator<string> {
    const topology = this.#topology;
    if (topology === undefined) return;
    for (const channel of this.#sink?.liveChannels() ?? []) {
      if (topology.ownerOf(slotOf(channel)) === node.key) yield channel;
    }
  }

  /**
   * Takes a new topology: connects to new masters, retires nodes that are no
   * longer masters (their channels are affected), counts the channels whose
   * slot changed master as affected, and wakes whoever waits for a change.
   */
  #apply(topology: ClusterTopology): void {
    const previous = this.#topology;
    this.#topology = topology;
    if (previous?.differs(topology)) {
      for (const channel of this.#sink?.liveChannels() ?? []) {
        const slot = slotOf(channel);
        if (previous.ownerOf(slot) !== topology.ownerOf(slot)) this.#affected.add(channel);
      }
    }
    for (const key of topology.masters) {
      let node = this.#nodes.get(key);
      const address = topology.nodes.get(key);
      if (node === undefined && address !== undefined) {
        node = this.#newNode(address);
        this.#nodes.set(key, node);
        node.start();
      }
      if (node !== undefined) {
        node.probeChannel = probeChannelFor(topology, key, this.#probePrefix, node.probeChannel);
      }
    }
    for (const [key, node] of this.#nodes) {
      if (topology.masters.includes(key)) continue;
      this.#nodes.delete(key);
      for (const channel of this.#sink?.liveChannels() ?? []) {
        if (node.holds(channel)) this.#affected.add(channel);
      }
      const retired = node.close(this.#settings.publishTimeoutMs);
      this.#retiring.add(retired);
      void retired.finally(() => this.#retiring.delete(retired));
    }
    this.#changes.settle();
  }

  /**
   * A hint that the topology changed (from `node`, if it was the one to say
   * so): publishes wait, the change is reported, and recovery starts.
   */
  #hint(node: ClusterNode | undefined): void {
    this.#hints++;
    this.#stale = true;
    this.#askFirst = node?.key;
    this.#connectionChanged();
    this.#recover();
  }

  /**
   * Until the cluster is in step: reads the topology, applies it and brings
   * every up subscriber to its channels; after a failed round, waits a
   * backoff (a node may be failing over) and tries again. One loop at a time.
   */
  #recover(): void {
    if (this.#recovering !== undefined || this.#closing !== undefined) return;
    this.#recovering = this.#recoveryLoop().finally(() => {
      this.#recovering = undefined;
    });
  }

  async #recoveryLoop(): Promise<void> {
    for (let attempt = 0; this.#closing === undefined; attempt++) {
      const hints = this.#hints;
      try {
        this.#apply(await this.#readTopology());
        if (this.#hints === hints) this.#stale = false;
        await Promise.all([...this.#nodes.values()].map((node) => node.subscribe()));
      } catch (error) {
        if (error instanceof Error) this.#lastError = error;
        if (isRedirect(error)) this.#stale = true;
      }
      this.#connectionChanged();
      if (this.#isHealthy()) return;
      await new Promise<void>((resolve) => {
        this.#wakeRecovery = resolve;
        this.#recoveryTimer = setTimeout(resolve, reconnectDelay(attempt, this.#settings));
      });
    }
  }

  /**
   * Every `healthCheckIntervalMs`: a probe on every master's subscriber, and
   * the topology read again, for a change no connection told of (a slot
   * migrated whose push node-redis missed).
   */
  #periodicCheck(): void {
    if (this.#closing !== undefined || this.#recovering !== undefined) return;
    for (const node of this.#nodes.values()) node.probe();
    this.#readTopology().then(
      (topology) => {
        const current = this.#topology;
        if (this.#recovering !== undefined || current === undefined) return;
        const masters = (t: ClusterTopology): string => [...t.masters].sort().join(",");
        if (current.differs(topology) || masters(current) !== masters(topology)) {
          this.#hint(undefined);
        }
      },
      (error: unknown) => {
        if (error instanceof Error) this.#lastError = error;
        this.#recover();
      },
    );
  }

  /** The topology, asking the node of the last hint first (see {@link readTopology}). */
  #readTopology(): Promise<ClusterTopology> {
    const first = this.#askFirst === undefined ? undefined : this.#nodes.get(this.#askFirst);
    const nodes = [...(first === undefined ? [] : [first]), ...this.#nodes.values()];
    return readTopology(
      nodes.map((node) => ({
        key: node.key,
        address: node.address,
        client: node.publisher.client,
      })),
      [...(this.#topology?.nodes.values() ?? []), ...this.#endpoints.seeds],
      (address) => this.#newClient(address),
    );
  }

  /** The first topology, asked again after a backoff until the deadline; a refusal fails at once. */
  async #firstTopology(deadline: number, operation: string): Promise<ClusterTopology> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closing !== undefined) throw new BusClosedError();
      try {
        return await this.#readTopology();
      } catch (error) {
        const cause = error instanceof Error ? error : new Error(String(error));
        this.#lastError = cause;
        if (isRejection(cause)) {
          throw new ConnectionRejectedError(
            `the Redis Cluster node refused the connection: ${cause.message}`,
            { cause },
          );
        }
      }
      const delay = reconnectDelay(attempt, this.#settings);
      if (performance.now() + delay >= deadline) throw this.#timedOut(operation);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Whether messages may be lost now: a connection to a master is down, or a
   * live channel's subscription is (its slot moved). A topology change that
   * took no live channel's subscription (a slot with none of ours migrated)
   * makes publishes wait for the new topology but is not reported.
   */
  #losing(): boolean {
    for (const key of this.#topology?.masters ?? []) {
      const node = this.#nodes.get(key);
      if (node?.publisher.client === undefined || node.subscriber.client === undefined) return true;
    }
    if (this.#affected.size === 0) return false;
    return (this.#sink?.liveChannels() ?? []).some((channel) => this.#affected.has(channel));
  }

  /**
   * Reports `disconnected` when messages may be lost (see {@link #losing}),
   * and `reconnected` once every master is up and in step again, with the
   * live channels whose subscription was down meanwhile.
   */
  #connectionChanged(): void {
    if (this.#closing !== undefined) return;
    this.#changes.settle();
    const healthy = this.#isHealthy();
    if (healthy) this.#healthy.settle();
    if (!this.#opened) return;
    if (this.#connected && !healthy && this.#losing()) {
      this.#connected = false;
      this.#downSince = performance.now();
      const error = this.#lastError;
      this.#sink?.connection(
        error === undefined ? { state: "disconnected" } : { state: "disconnected", error },
      );
      return;
    }
    if (!healthy) return;
    if (this.#connected) {
      // In step again without having lost anything: nothing to report, nothing to remember.
      this.#affected.clear();
      return;
    }
    this.#connected = true;
    const live = new Set(this.#sink?.liveChannels());
    const channels = [...this.#affected].filter((channel) => live.has(channel));
    this.#affected.clear();
    const downtimeMs = Math.round(performance.now() - this.#downSince);
    this.#sink?.connection({ state: "reconnected", downtimeMs, channels });
  }

  #timedOut(operation: string): NotConnectedError {
    const cause = this.#lastError;
    const detail = cause === undefined ? "" : ` (last error: ${cause.message})`;
    return new NotConnectedError(`${operation}, but the Redis Cluster was not reachable${detail}`, {
      cause,
    });
  }
}

/**
 * Builds a Redis Cluster transport; see {@link RedisClusterTransport}.
 * @throws {UnsupportedUrlError} the URL or a seed is not valid.
 * @throws {RangeError} a timeout or delay is not a positive integer.
 */
export function createRedisClusterTransport(
  options: RedisClusterTransportOptions,
): RedisClusterTransport {
  return new RedisClusterTransport(options);
}
