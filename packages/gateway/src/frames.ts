/**
 * Each event's SSE message, formatted once however many streams send it.
 */
import type { Event } from "@eventbus/core";
import type { FastifyBaseLogger } from "fastify";

/**
 * A memo of each event's SSE message: the bus hands every subscriber of a
 * channel the same event object (one object per channel and message), so the
 * per-stream work on the delivery path is a lookup and a socket write. One
 * instance per message format.
 */
export class Frames {
  /** The frame of each event seen, or `null` for one that could not be encoded. */
  readonly #byEvent = new WeakMap<Event, string | null>();
  /** The last event asked for and its frame: its streams ask for it one after another. */
  #last: { readonly event: Event; readonly frame: string | null } | undefined;
  readonly #log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.#log = log;
  }

  /**
   * The message of `event` as `format` writes it, formatted on first use; or
   * `undefined` if it cannot be encoded, and then the streams skip it and go
   * on. The bus decodes only events that encode, so that takes code sharing
   * the bus that changed a delivered event (they are shared, not copied); it
   * is logged once per event, not once per stream.
   */
  of(event: Event, format: (event: Event) => string): string | undefined {
    const last = this.#last;
    if (last?.event === event) return last.frame ?? undefined;
    let frame = this.#byEvent.get(event);
    if (frame === undefined) {
      try {
        frame = format(event);
      } catch (error) {
        frame = null;
        this.#log.error({ err: error, id: event.id }, "event skipped: it cannot be encoded");
      }
      this.#byEvent.set(event, frame);
    }
    this.#last = { event, frame };
    return frame ?? undefined;
  }
}
