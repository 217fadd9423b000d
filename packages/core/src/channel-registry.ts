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
        entry = { subscribers: new Set(), meta: describe(channel), confirmation: undefined };
        this.#channels.set(channel, entry);
        added.push(channel);
      }
      entry.subscribers.add(subscriber);
    }
    return added;
  }

  /** Records the promise of the server's confirmation of `channels` (still registered ones). */
  confirm(channels: readonly string[], confirmation: Promise<void>): void {
    for (const channel of channels) {
      const entry = this.#channels.get(channel);
      if (entry !== undefined) entry.confirmation = confirmation;
    }
  }

  /**
   * The confirmations `channels` wait on: the in-flight or settled SUBSCRIBE of
   * each. A channel without one (not yet recorded, or removed) is left out.
   */
  confirmations(channels: readonly string[]): Promise<void>[] {
    const pending = new Set<Promise<void>>();
    for (const channel of channels) {
      const confirmation = this.#channels.get(channel)?.confirmation;
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
      if (entry === undefined || !entry.subscribers.delete(subscriber)) continue;
      if (entry.subscribers.size === 0) {
        this.#channels.delete(channel);
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

interface ChannelEntry<S, M> {
  readonly subscribers: Set<S>;
  readonly meta: M;
  confirmation: Promise<void> | undefined;
}

/** A read-only view of one channel's registration. */
export interface ChannelEntryView<S, M> {
  readonly subscribers: ReadonlySet<S>;
  readonly meta: M;
}
