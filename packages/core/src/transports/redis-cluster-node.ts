/**
 * The cluster transport's two connections to one master: a publisher
 * (SPUBLISH and the history scripts of the channels the master serves) and a
 * subscriber holding the SSUBSCRIBEs of those channels. Each is a supervised
 * {@link RedisConnection}; what the subscriber must hold is asked of the
 * transport (the bus's live channels this master serves), never kept as a
 * list of its own beyond what the current connection has confirmed.
 */
import { ErrorReply } from "redis";
import { addressKey, groupBySlot, type NodeAddress } from "./cluster-topology.js";
import type { Client } from "./redis-client.js";
import { RedisConnection } from "./redis-connection.js";
import type { RedisSettings } from "./redis-options.js";

/** What a {@link ClusterNode} asks of, and tells, its transport. */
export interface ClusterNodeHooks {
  /** Makes an unconnected client to `address`. */
  create(address: NodeAddress): Client;
  /** The live channels this node serves now, which its subscriber must hold (its probe channel is added). */
  wanted(node: ClusterNode): Iterable<string>;
  /** A message arrived on a shard channel of the bus. */
  message(channel: string, data: string): void;
  /** The server dropped `channel`'s subscription (its slot moved away). */
  moved(node: ClusterNode, channel: string): void;
  /** The probe found the subscriber deaf, or the node no longer serving the probe channel's slot. */
  suspect(node: ClusterNode, reason: Error): void;
  /** A connection came up or went down; `lost` are the channels whose subscription it took with it. */
  changed(node: ClusterNode, lost: readonly string[]): void;
}

/** Where a {@link ClusterNode} connects and how it probes its subscriber. */
export interface ClusterNodeOptions {
  readonly address: NodeAddress;
  readonly settings: RedisSettings;
  /** The prefix of the transport's probe channels (random per transport): never a bus channel. */
  readonly probePrefix: string;
}

/** The channels one subscriber connection holds, and its reconciliation in progress. */
interface Session {
  readonly client: Client;
  /**
   * The channels whose last command on this connection was SSUBSCRIBE (sent,
   * not necessarily confirmed). Commands on one connection run in order, so
   * this is what the server will hold once they have run.
   */
  readonly subscribed: Set<string>;
  /** Channels the server refused (not a redirect): not asked again while wanted. */
  readonly refused: Map<string, ErrorReply>;
  syncing: Promise<void> | undefined;
  /** The last reconciliation failed; it is not in step until one succeeds. */
  failed: boolean;
}

/** An SSUBSCRIBE answered with an error that is no redirect: the channel cannot be subscribed. */
export class RefusedSubscription extends Error {
  override readonly name = "RefusedSubscription";
}

/** Server replies that mean "ask the right node, or later": the topology changed or is changing. */
const REDIRECT_REPLY = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|LOADING)\b/;

/** Whether `error` is a reply saying the command went to the wrong node or came too early. */
export function isRedirect(error: unknown): boolean {
  return error instanceof ErrorReply && REDIRECT_REPLY.test(error.message);
}

/**
 * One master of the cluster, seen through its two supervised connections.
 *
 * Its subscriber also holds a probe channel of the master's own (in a slot it
 * serves): {@link probe} SPUBLISHes a token on it through the publisher, and
 * a token that has not come back by the next probe means the subscriber is
 * deaf (it is replaced). The probe channel's subscription also tells at once
 * when the master stops serving its slots (a graceful failover), even to a
 * bus that subscribes to nothing there.
 */
export class ClusterNode {
  readonly address: NodeAddress;
  readonly key: string;
  readonly publisher: RedisConnection<Client>;
  readonly subscriber: RedisConnection<Client>;
  readonly #hooks: ClusterNodeHooks;
  readonly #probePrefix: string;
  #session: Session | undefined;
  #probeChannel: string | undefined;
  /** The token of the probe in flight, until it comes back. */
  #probeToken: string | undefined;
  #probes = 0;
  readonly #onMessage = (message: string, channel: string): void => {
    if (!channel.startsWith(this.#probePrefix)) this.#hooks.message(channel, message);
    else if (message === this.#probeToken) this.#probeToken = undefined;
  };

  constructor(options: ClusterNodeOptions, hooks: ClusterNodeHooks) {
    const { address, settings } = options;
    this.address = address;
    this.key = addressKey(address);
    this.#probePrefix = options.probePrefix;
    this.#hooks = hooks;
    const create = (): Client => hooks.create(address);
    this.publisher = new RedisConnection(`publisher of ${this.key}`, settings, {
      create,
      prepare: async () => {},
      farewell: async () => {},
      changed: () => hooks.changed(this, []),
    });
    this.subscriber = new RedisConnection(`subscriber of ${this.key}`, settings, {
      create,
      prepare: (client) => this.#prepare(client),
      farewell: (client) => client.sUnsubscribe(),
      changed: () => this.#subscriberChanged(),
    });
  }

  /** The probe channel, in a slot this master serves (`undefined`: none found, no probe). */
  get probeChannel(): string | undefined {
    return this.#probeChannel;
  }

  set probeChannel(channel: string | undefined) {
    if (channel === this.#probeChannel) return;
    this.#probeChannel = channel;
    this.#probeToken = undefined;
  }

  /** A probe token was sent and has not come back yet. */
  get probeInFlight(): boolean {
    return this.#probeToken !== undefined;
  }

  /**
   * One round of the probe, while in step: if the last token has not come
   * back, the subscriber is deaf: it is dropped (and reconnected) and the
   * transport told. Otherwise a new token is SPUBLISHed; a reply of 0
   * receivers means the master no longer holds the probe's subscription.
   */
  probe(): void {
    const channel = this.#probeChannel;
    const publisher = this.publisher.client;
    if (!this.inStep || channel === undefined || publisher === undefined) {
      this.#probeToken = undefined;
      return;
    }
    if (this.#probeToken !== undefined) {
      this.#probeToken = undefined;
      const reason = new Error(
        `the subscriber of ${this.key} is deaf: a probe on it did not come back`,
      );
      this.subscriber.drop(reason);
      this.#hooks.suspect(this, reason);
      return;
    }
    const token = String(++this.#probes);
    this.#probeToken = token;
    publisher.sendCommand(["SPUBLISH", channel, token]).then(
      (receivers) => {
        if (Number(receivers) !== 0 || this.#probeToken !== token) return;
        this.#hooks.suspect(this, new Error(`${this.key} no longer serves the probe's slot`));
      },
      // A failed publisher connection is noticed and replaced by its own supervision.
      () => {},
    );
  }

  /** Starts connecting both connections. */
  start(): void {
    this.publisher.start();
    this.subscriber.start();
  }

  /** Both connections are up and the subscriber holds every wanted channel, as far as it knows. */
  get inStep(): boolean {
    const session = this.#session;
    return (
      this.publisher.client !== undefined &&
      session !== undefined &&
      this.subscriber.client === session.client &&
      session.syncing === undefined &&
      !session.failed
    );
  }

  /** Whether the current subscriber connection holds `channel` (or its SSUBSCRIBE is on the way). */
  holds(channel: string): boolean {
    return this.#session?.subscribed.has(channel) ?? false;
  }

  /**
   * Brings the subscriber to the wanted channels (SSUBSCRIBE of the missing,
   * SUNSUBSCRIBE of the extra, one command per slot), and again until the two
   * agree. Resolves `false` when the subscriber is not up.
   * @throws {ErrorReply} a redirect (see {@link isRedirect}): the topology is stale.
   * @throws {RefusedSubscription} the server refused some of `channels`.
   * @throws {Error} the connection failed meanwhile.
   */
  async subscribe(channels: readonly string[] = []): Promise<boolean> {
    const session = this.#session;
    if (session === undefined || this.subscriber.client !== session.client) return false;
    await this.#sync(session);
    for (const channel of channels) {
      const refusal = session.refused.get(channel);
      if (refusal !== undefined) throw new RefusedSubscription(refusal.message, { cause: refusal });
    }
    return true;
  }

  /** SUNSUBSCRIBEs those of `channels` the subscriber holds; a lost connection took them anyway. */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.subscriber.client !== session.client) return;
    const held = channels.filter((channel) => session.subscribed.delete(channel));
    await Promise.all(
      groupBySlot(held).map((group) =>
        // Only a lost connection fails a SUNSUBSCRIBE, and it ended the subscription anyway.
        session.client.sUnsubscribe(group, this.#onMessage).catch(() => {}),
      ),
    );
  }

  /** Closes both connections (SUNSUBSCRIBE first), within `graceMs`. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([this.publisher.close(graceMs), this.subscriber.close(graceMs)]);
  }

  async #prepare(client: Client): Promise<void> {
    const session: Session = {
      client,
      subscribed: new Set(),
      refused: new Map(),
      syncing: undefined,
      failed: false,
    };
    this.#session = session;
    client.on("sharded-channel-moved", (channel: string) => {
      session.subscribed.delete(channel);
      if (!channel.startsWith(this.#probePrefix)) this.#hooks.moved(this, channel);
      else this.#hooks.suspect(this, new Error(`${this.key} stopped serving the probe's slot`));
    });
    await this.#sync(session);
  }

  #subscriberChanged(): void {
    const session = this.#session;
    const lost: string[] = [];
    if (this.subscriber.client === undefined && session !== undefined) {
      for (const channel of session.subscribed) {
        if (!channel.startsWith(this.#probePrefix)) lost.push(channel);
      }
    }
    this.#hooks.changed(this, lost);
  }

  /** One reconciliation per session at a time; a caller joins the one in progress. */
  #sync(session: Session): Promise<void> {
    session.syncing ??= this.#reconcile(session);
    return session.syncing;
  }

  async #reconcile(session: Session): Promise<void> {
    // Let #sync store this run before it can end.
    await undefined;
    try {
      for (;;) {
        const wanted = new Set(this.#hooks.wanted(this));
        if (this.#probeChannel !== undefined) wanted.add(this.#probeChannel);
        for (const channel of session.refused.keys()) {
          if (!wanted.has(channel)) session.refused.delete(channel);
        }
        const missing = [...wanted].filter(
          (channel) => !session.subscribed.has(channel) && !session.refused.has(channel),
        );
        const extra = [...session.subscribed].filter((channel) => !wanted.has(channel));
        if (missing.length === 0 && extra.length === 0) {
          session.failed = false;
          return;
        }
        await Promise.all([
          ...groupBySlot(missing).map((group) => this.#subscribeGroup(session, group)),
          ...groupBySlot(extra).map((group) => {
            for (const channel of group) session.subscribed.delete(channel);
            return session.client.sUnsubscribe(group, this.#onMessage);
          }),
        ]);
      }
    } catch (error) {
      session.failed = true;
      throw error;
    } finally {
      // Cleared as the last check ends, so a caller arriving later starts a new run.
      session.syncing = undefined;
    }
  }

  async #subscribeGroup(session: Session, group: string[]): Promise<void> {
    for (const channel of group) session.subscribed.add(channel);
    try {
      await session.client.sSubscribe(group, this.#onMessage);
    } catch (error) {
      for (const channel of group) session.subscribed.delete(channel);
      if (!(error instanceof ErrorReply) || isRedirect(error)) throw error;
      for (const channel of group) session.refused.set(channel, error);
    }
  }
}
