import type { SubscribeBatch } from "./subscribe-batch.js";

/** The subscribers of one channel, distinct, in the order they joined. */
export interface Subscribers<S> extends Iterable<S> {
  readonly size: number;
}

/** A read-only view of one wanted channel: what the receive path needs. */
export interface ChannelView<S, M> {
  readonly subscribers: Subscribers<S>;
  /** What the bus keeps about the channel, decided when it was first wanted. */
  readonly meta: M;
}

/** More than one subscriber of a channel; a class of its own, so it is told apart from an `S`. */
class Several<S> {
  constructor(readonly list: S[]) {}
}

/**
 * What the planner keeps about one wanted channel: its local subscribers, the
 * bus's `meta`, and where its SUBSCRIBE is. Per-channel state that later
 * capabilities need (a history position, the cluster shard that owns the
 * channel) belongs here as further fields, moved by the planner's
 * transitions; see `docs/planner.md`.
 *
 * Most channels have one subscriber, held inline; more are kept in an array
 * that is replaced (never changed in place) when one leaves, so a delivery
 * loop iterating it is not disturbed when a subscriber ends during the loop.
 * Lighter than a `Set` per channel, which matters at 100,000 channels.
 */
export class ChannelEntry<S, M> implements ChannelView<S, M>, Subscribers<S> {
  readonly meta: M;
  /**
   * The SUBSCRIBE this channel waits on (queued, sent or failed); `undefined`
   * once the server confirmed it, so a confirmed channel holds no promise.
   */
  batch: SubscribeBatch | undefined;
  #members: S | Several<S> | undefined;

  constructor(meta: M, first: S, batch: SubscribeBatch) {
    this.meta = meta;
    this.batch = batch;
    this.#members = first;
  }

  get subscribers(): Subscribers<S> {
    return this;
  }

  get size(): number {
    const members = this.#members;
    if (members instanceof Several) return members.list.length;
    return members === undefined ? 0 : 1;
  }

  /** Whether its SUBSCRIBE has gone to the transport and not failed: a new connection subscribes it. */
  get live(): boolean {
    return this.batch === undefined || this.batch.state === "sent";
  }

  [Symbol.iterator](): Iterator<S> {
    const members = this.#members;
    if (members instanceof Several) return members.list[Symbol.iterator]();
    return (members === undefined ? [] : [members])[Symbol.iterator]();
  }

  /** Adds `subscriber` unless present. In place: nothing is delivered while subscribers join. */
  add(subscriber: S): void {
    const members = this.#members;
    if (members instanceof Several) {
      if (!members.list.includes(subscriber)) members.list.push(subscriber);
    } else if (members === undefined) {
      this.#members = subscriber;
    } else if (members !== subscriber) {
      this.#members = new Several([members, subscriber]);
    }
  }

  /** Removes `subscriber`; false if it was not there. */
  delete(subscriber: S): boolean {
    const members = this.#members;
    if (!(members instanceof Several)) {
      if (members === undefined || members !== subscriber) return false;
      this.#members = undefined;
      return true;
    }
    const rest = members.list.filter((member) => member !== subscriber);
    if (rest.length === members.list.length) return false;
    this.#members = new Several(rest);
    return true;
  }
}
