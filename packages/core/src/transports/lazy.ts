import { BusClosedError } from "../errors.js";
import type { HistorySettings, HistoryStore } from "../history/store.js";
import type { Transport, TransportSink } from "../transport.js";

/**
 * A transport loaded on `open()`: `createEventBus("redis://...")` uses it so
 * that importing `@eventbus/core` never loads a Redis client, and only a bus
 * that asks for Redis does. Every call after `open()` goes to the loaded one.
 */
export class LazyTransport implements Transport {
  readonly #load: () => Promise<Transport>;
  #loaded: Transport | undefined;
  #closed = false;

  /** @param load - imports and builds the real transport; its rejection rejects `open()`. */
  constructor(load: () => Promise<Transport>) {
    this.#load = load;
  }

  async open(sink: TransportSink): Promise<void> {
    const transport = await this.#load();
    if (this.#closed) throw new BusClosedError();
    this.#loaded = transport;
    await transport.open(sink);
  }

  /** Hands the loaded transport's promise on as it is: a burst of publishes holds one promise each, not two. */
  publish(channel: string, data: string): Promise<void> {
    const loaded = this.#loaded;
    return loaded === undefined
      ? Promise.reject(new BusClosedError())
      : loaded.publish(channel, data);
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    return this.#transport().subscribe(channels);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    return this.#transport().unsubscribe(channels);
  }

  /** The loaded transport's history store; a loaded transport without one cannot keep history. */
  history(settings: HistorySettings): HistoryStore {
    const transport = this.#transport();
    if (transport.history === undefined) {
      throw new TypeError("the loaded transport keeps no history");
    }
    return transport.history(settings);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#loaded?.close();
  }

  /**
   * The loaded transport. The bus calls nothing but `open` and `close` before
   * `open` resolved, so none means it failed to load or was closed first.
   */
  #transport(): Transport {
    if (this.#loaded === undefined) throw new BusClosedError();
    return this.#loaded;
  }
}
