/**
 * Which local subscribers listen on which channel, and the server's
 * confirmation of each channel's subscription. Pure bookkeeping, no I/O: it
 * tells the bus which channels need a server SUBSCRIBE (their first subscriber
 * arrived) or UNSUBSCRIBE (their last one left), so a channel is subscribed on
 * the server once however many local subscribers it has.
 *
 * A subscriber that joins a channel whose SUBSCRIBE is still in flight shares
 * that SUBSCRIBE's confirmation rather than sending another. Commands go out in
 * the order the registry asks for them, on one connection, so an UNSUBSCRIBE
 * followed by a new SUBSCRIBE of the same channel ends subscribed.
 *
 * @typeParam S - a local subscriber.
 * @typeParam M - what the bus keeps about a channel (decided when it is first added).
 */
export class ChannelRegistry<S, M> {
  readonly #channels = new Map<string, ChannelEntry<S, M>>();
  /** Recorded confirmations, until forgotten: apart, as most channels have none for most of their life. */
  readonly #confirmations = new Map<string, Promise<void>>();

  /**
   * Adds `subscriber` to each channel, describing a new channel with `describe`.
   * Returns the channels that had no subscriber: the caller subscribes them at
   * the server, then records that with {@link confirm}.
   */
  add(subscriber: S, channels: readonly string[], describe: (channel: string) => M): string[] {
    const added: string[] = [];
    for (const channel of channels) {
      let entry = this.#channels.get(channel);
      if (entry === undefined) {
        entry = new ChannelEntry<S, M>(describe(channel), subscriber);
        this.#channels.set(channel, entry);
        added.push(channel);
      } else {
        entry.add(subscriber);
      }
    }
    return added;
  }

  /** Records the promise of the server's confirmation of `channels` (still registered ones). */
  confirm(channels: readonly string[], confirmation: Promise<void>): void {
    for (const channel of channels) {
      if (this.#channels.has(channel)) this.#confirmations.set(channel, confirmation);
    }
  }

  /**
   * Forgets `confirmation` for those of `channels` it still stands for: once the
   * server has confirmed them, a new subscriber has nothing to wait for, and a
   * settled promise per channel need not stay in memory.
   */
  forget(channels: readonly string[], confirmation: Promise<void>): void {
    for (const channel of channels) {
      if (this.#confirmations.get(channel) === confirmation) this.#confirmations.delete(channel);
    }
  }

  /**
   * The confirmations `channels` wait on: the in-flight or settled SUBSCRIBE of
   * each. A channel without one (not yet recorded, forgotten once confirmed, or
   * removed) is left out.
   */
  confirmations(channels: readonly string[]): Promise<void>[] {
    const pending = new Set<Promise<void>>();
    for (const channel of channels) {
      const confirmation = this.#confirmations.get(channel);
      if (confirmation !== undefined) pending.add(confirmation);
    }
    return [...pending];
  }

  /**
   * Removes `subscriber` from each channel. Returns the channels it was the last
   * subscriber of: the caller unsubscribes them at the server.
   */
  remove(subscriber: S, channels: readonly string[]): string[] {
    const emptied: string[] = [];
    for (const channel of channels) {
      const entry = this.#channels.get(channel);
      if (entry === undefined || !entry.delete(subscriber)) continue;
      if (entry.size === 0) {
        this.#channels.delete(channel);
        this.#confirmations.delete(channel);
        emptied.push(channel);
      }
    }
    return emptied;
  }

  /** The subscribers of a channel and what the bus keeps about it, if it has any. */
  get(channel: string): ChannelEntryView<S, M> | undefined {
    return this.#channels.get(channel);
  }

  /** Every channel with at least one subscriber. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /** Every distinct subscriber of any channel. */
  subscribers(): Set<S> {
    const all = new Set<S>();
    for (const entry of this.#channels.values()) for (const sub of entry.subscribers) all.add(sub);
    return all;
  }
}

/** The subscribers of one channel, distinct, in the order they joined. */
export interface Subscribers<S> extends Iterable<S> {
  readonly size: number;
}

/** A read-only view of one channel's registration. */
export interface ChannelEntryView<S, M> {
  readonly subscribers: Subscribers<S>;
  readonly meta: M;
}

/** More than one subscriber of a channel; a class of its own, so it is told apart from an `S`. */
class Several<S> {
  constructor(readonly list: S[]) {}
}

/**
 * One channel's registration. Most channels have one subscriber, held
 * inline; more are kept in an array that is replaced (never changed in place)
 * when one leaves, so a delivery loop iterating it is not disturbed when a
 * subscriber ends during the loop. Two fields, lighter than a `Set` per
 * channel, which matters at 100,000 channels.
 */
class ChannelEntry<S, M> implements ChannelEntryView<S, M>, Subscribers<S> {
  readonly meta: M;
  #members: S | Several<S> | undefined;

  constructor(meta: M, first: S) {
    this.meta = meta;
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
