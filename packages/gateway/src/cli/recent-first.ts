/**
 * `tail --last`: a channel's recent events first, then the live ones. The
 * stream opens before the history is read, so nothing published around the
 * switch is missed; live events that arrive during the read wait, and those
 * the read already gave are dropped (by event id), so none is printed twice.
 */
import type { Event, PositionedEvent } from "@eventbus/core";

/** Where events go, each with its position when known. */
export type PrintEvent = (event: Event, position: string | undefined) => void;

/** Orders what `tail` prints: the recent events, then live ones, each once. */
export class RecentFirst {
  readonly #print: PrintEvent;
  /** Live events held back until the recent ones are printed; `undefined` once they are. */
  #early: { event: Event; position: string | undefined }[] | undefined = [];

  constructor(print: PrintEvent) {
    this.#print = print;
  }

  /** A live event: printed now, or after the recent ones if they are still being read. */
  live(event: Event, position: string | undefined): void {
    if (this.#early === undefined) this.#print(event, position);
    else this.#early.push({ event, position });
  }

  /** Prints the recent events, then the live ones held back that they do not include. */
  recent(events: readonly PositionedEvent[]): void {
    const early = this.#early ?? [];
    this.#early = undefined;
    const ids = new Set<string>();
    for (const { event, position } of events) {
      ids.add(event.id);
      this.#print(event, position);
    }
    for (const { event, position } of early) {
      if (!ids.has(event.id)) this.#print(event, position);
    }
  }
}
