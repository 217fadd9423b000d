import { ChannelEntry, type ChannelView } from "./channel-entry.js";
import { SubscribeBatch } from "./subscribe-batch.js";

/**
 * A command for the transport, in the order the planner hands them out:
 * SUBSCRIBE a batch (report its answer with `confirmed` or `failed`), or
 * UNSUBSCRIBE channels nobody wants any more.
 */
export type PlannedCommand =
  | { readonly kind: "subscribe"; readonly batch: SubscribeBatch }
  | { readonly kind: "unsubscribe"; readonly channels: readonly string[] };

/** What {@link SubscriptionPlanner.join} decided. */
export interface Joined {
  /**
   * Settles as the subscriber's `ready` must: at once if every channel is
   * confirmed, else with the SUBSCRIBE (queued or in flight) of each channel
   * that is not; rejects with the first failure.
   */
  readonly ready: Promise<void>;
  /**
   * This call opened the turn's SUBSCRIBE batch: the caller takes it with
   * {@link SubscriptionPlanner.takeCommands} soon (the bus: on a microtask),
   * so that the `join` calls of one turn cost one command.
   */
  readonly opened: boolean;
}

const READY: Promise<void> = Promise.resolve();
const noop = (): void => {};

/**
 * The bus's pub/sub bookkeeping as a pure state machine, after node-redis's
 * `PubSub` class: which channels are wanted and by which local subscribers,
 * what to SUBSCRIBE at the end of the turn and what to UNSUBSCRIBE now, what a
 * subscriber waits on before it is ready, and which channels a new connection
 * must subscribe. It sends nothing itself: its methods say what to send, and
 * the caller reports how the server answered ({@link confirmed},
 * {@link failed}). States and transitions: `docs/planner.md`.
 *
 * A channel is subscribed on the server once however many local subscribers
 * it has. A subscriber joining a channel whose SUBSCRIBE is queued or in
 * flight waits on that one. Commands wait in order until taken (the bus takes
 * none before its transport is open) and go out in that order on one
 * connection, so an UNSUBSCRIBE followed by a SUBSCRIBE of the same channel
 * ends subscribed, and a SUBSCRIBE followed by an UNSUBSCRIBE ends
 * unsubscribed.
 *
 * @typeParam S - a local subscriber.
 * @typeParam M - what the caller keeps about a channel, decided when it is first wanted.
 */
export class SubscriptionPlanner<S, M> {
  readonly #channels = new Map<string, ChannelEntry<S, M>>();
  /** This turn's SUBSCRIBE, open to more channels until closed. */
  #queued: SubscribeBatch | undefined;
  /** Closed commands not yet taken, in order: a closed batch, pending UNSUBSCRIBEs. */
  #outbox: PlannedCommand[] = [];

  /** How many channels have at least one subscriber. */
  get size(): number {
    return this.#channels.size;
  }

  /**
   * Adds `subscriber` to each channel. A channel nobody wanted yet is queued
   * for this turn's SUBSCRIBE, with `describe(channel)` as its meta.
   */
  join(subscriber: S, channels: readonly string[], describe: (channel: string) => M): Joined {
    let opened = false;
    for (const channel of channels) {
      const entry = this.#channels.get(channel);
      if (entry !== undefined) {
        entry.add(subscriber);
        continue;
      }
      let batch = this.#queued;
      if (batch === undefined) {
        batch = new SubscribeBatch();
        this.#queued = batch;
        opened = true;
      }
      batch.add(channel);
      this.#channels.set(channel, new ChannelEntry(describe(channel), subscriber, batch));
    }
    return { ready: this.#readiness(channels), opened };
  }

  /**
   * Every command waiting, in order, to hand to the transport now: closed
   * batches and UNSUBSCRIBEs, then this turn's batch. The SUBSCRIBEs count as
   * sent, so their channels are live from now on; report each answer with
   * {@link confirmed} or {@link failed}.
   */
  takeCommands(): PlannedCommand[] {
    this.#closeBatch();
    const commands = this.#outbox;
    this.#outbox = [];
    for (const command of commands) if (command.kind === "subscribe") command.batch.send();
    return commands;
  }

  /** The server confirmed `batch`: its channels' subscribers are ready. */
  confirmed(batch: SubscribeBatch): void {
    batch.confirm();
    for (const channel of batch.channels) {
      const entry = this.#channels.get(channel);
      // Not a channel left and wanted again meanwhile, which waits on a later batch.
      if (entry?.batch === batch) entry.batch = undefined;
    }
  }

  /**
   * `batch` failed with `error`: its channels are no longer live, and every
   * subscriber waiting on it (those that join meanwhile too) fails with
   * `error`, then leaves.
   */
  failed(batch: SubscribeBatch, error: Error): void {
    batch.fail(error);
  }

  /**
   * Removes `subscriber` from each channel. The channels it was the last
   * subscriber of get an UNSUBSCRIBE, after this turn's batch (which is closed
   * early, so it goes out first). Returns whether it queued one: the caller
   * takes the commands now.
   */
  leave(subscriber: S, channels: readonly string[]): boolean {
    let unsubscribe: string[] | undefined;
    for (const channel of channels) {
      const entry = this.#channels.get(channel);
      if (entry === undefined || !entry.delete(subscriber) || entry.size > 0) continue;
      this.#channels.delete(channel);
      unsubscribe ??= [];
      unsubscribe.push(channel);
    }
    if (unsubscribe === undefined) return false;
    this.#closeBatch();
    this.#outbox.push({ kind: "unsubscribe", channels: unsubscribe });
    return true;
  }

  /** The subscribers of a channel and its meta, if anyone wants it. */
  get(channel: string): ChannelView<S, M> | undefined {
    return this.#channels.get(channel);
  }

  /**
   * The channels the server must have subscribed: wanted, with a SUBSCRIBE
   * sent and not failed. What a transport subscribes on a new connection.
   */
  live(): string[] {
    const live: string[] = [];
    for (const [channel, entry] of this.#channels) if (entry.live) live.push(channel);
    return live;
  }

  /** Every distinct subscriber of any channel. */
  subscribers(): Set<S> {
    const all = new Set<S>();
    for (const entry of this.#channels.values()) for (const sub of entry.subscribers) all.add(sub);
    return all;
  }

  /** Closes this turn's batch: later joins start another, which goes out after what is queued now. */
  #closeBatch(): void {
    if (this.#queued === undefined) return;
    this.#outbox.push({ kind: "subscribe", batch: this.#queued });
    this.#queued = undefined;
  }

  /** What a subscriber of `channels` waits on: nothing, one batch (shared, not wrapped), or several. */
  #readiness(channels: readonly string[]): Promise<void> {
    let first: Promise<void> | undefined;
    let several: Set<Promise<void>> | undefined;
    for (const channel of channels) {
      const confirmation = this.#channels.get(channel)?.batch?.confirmation;
      if (confirmation === undefined || confirmation === first) continue;
      if (first === undefined) {
        first = confirmation;
      } else {
        several ??= new Set([first]);
        several.add(confirmation);
      }
    }
    if (several !== undefined) return Promise.all(several).then(noop);
    return first ?? READY;
  }
}
