import type { HistorySettings, HistoryStore } from "./history/store.js";

/**
 * What the bus needs from a transport: channels and strings, nothing more.
 *
 * A transport does not know events, subscribers or validation; the bus does.
 * The bus calls `subscribe` for a channel only when its first local subscriber
 * arrives and `unsubscribe` when the last leaves, so a transport holds at most
 * one server subscription per channel; which channels are live is the bus's to
 * say ({@link TransportSink.liveChannels}), not a copy the transport keeps.
 * Every behaviour a user can see is pinned by the conformance suite, run
 * against every transport.
 */
export interface Transport {
  /**
   * Connects, and from then on hands every message and connection change to
   * `sink`. Called once, before any other method but `close`, which may come
   * while `open` is pending (`open` then rejects). Rejects if the transport
   * cannot connect within its own bound.
   */
  open(sink: TransportSink): Promise<void>;

  /**
   * Sends `data` to every subscriber of `channel`. Resolves once the server
   * has accepted it; rejects with an `EventBusError` if it was not sent.
   */
  publish(channel: string, data: string): Promise<void>;

  /** Subscribes at the server; resolves once the server has confirmed every channel. */
  subscribe(channels: readonly string[]): Promise<void>;

  /** Unsubscribes at the server; messages may still arrive until it resolves. */
  unsubscribe(channels: readonly string[]): Promise<void>;

  /** Unsubscribes everything and closes every connection; leaves nothing running. */
  close(): Promise<void>;

  /**
   * The history store of the transport's server, keeping `settings`: appending
   * to it publishes the event live with its position, in place of `publish`.
   * Called by a bus with history on, after `open` resolved. A transport
   * without it cannot keep history (the bus refuses `history` options then).
   */
  history?(settings: HistorySettings): HistoryStore;
}

/**
 * Where a transport delivers what it receives, and asks what it must be
 * subscribed to. Its methods never throw.
 */
export interface TransportSink {
  /** A message arrived on a channel the transport is subscribed to. */
  message(channel: string, data: string): void;
  /** The connection was lost or came back; see {@link TransportConnectionEvent}. */
  connection(event: TransportConnectionEvent): void;
  /**
   * The channels the server must have subscribed now: every channel whose
   * `subscribe` the bus has called and not undone (by `unsubscribe`, or by the
   * call failing). A transport that replaces a lost connection subscribes
   * these on the new one, asking again until the server agrees, as channels
   * may come and go meanwhile.
   */
  liveChannels(): readonly string[];
}

/**
 * A change of a transport's connection. `disconnected`: messages published
 * from now on may be lost. `reconnected`: connected again with every live
 * channel re-subscribed; `downtimeMs` is the window in which messages may have
 * been lost.
 */
export type TransportConnectionEvent =
  | { readonly state: "disconnected"; readonly error?: Error }
  | {
      readonly state: "reconnected";
      readonly downtimeMs: number;
      /**
       * The channels whose subscription was down, when only some were (a
       * cluster node failed over); every live channel when absent.
       */
      readonly channels?: readonly string[];
    };
