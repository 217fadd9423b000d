/** `tail` and `publish` straight on a bus (`--url redis://...`), without a gateway. */
import {
  createEvent,
  createEventBus,
  type Event,
  type EventBus,
  type HistoryOptions,
  type PositionedEvent,
} from "@eventbus/core";
import type { ChannelRef, Draft, FollowHandlers, FollowOptions, Remote } from "./remote.js";

/**
 * A bus of the CLI's own. Following reports what the bus reports: its
 * connection lost and back (the window in which events may have been lost),
 * and each message on the channel skipped as malformed (such as a timestamp
 * without an offset), so nothing is skipped without a word. With `history`,
 * it reads the channel's history and knows each live event's position (a bus
 * keeping history also publishes with it, so `publish` passes `false`).
 */
export class BusRemote implements Remote {
  readonly #bus: EventBus;

  constructor(url: string, history: HistoryOptions | false) {
    this.#bus = createEventBus(url, { history });
  }

  async publish(channel: ChannelRef, draft: Draft): Promise<Event> {
    const event = createEvent({
      type: draft.type,
      project_id: draft.projectId,
      ...draft.actor,
      payload: draft.payload,
    });
    await this.#bus.publish(this.#channel(channel), event);
    return event;
  }

  async recent(channel: ChannelRef, count: number): Promise<readonly PositionedEvent[]> {
    return (await this.#bus.history(this.#channel(channel), { limit: count })).events;
  }

  async follow(
    channel: ChannelRef,
    options: FollowOptions,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void> {
    const stopReporting = [
      this.#bus.on("malformed", (error) => handlers.onNotice(`skipped a ${error.message}`)),
      this.#bus.on("connection", (event) =>
        handlers.onNotice(
          event.state === "disconnected"
            ? `lost the connection to the bus at ${event.at.toISOString()}${event.error === undefined ? "" : ` (${event.error.message})`}; events published until it is back may be lost`
            : `the connection to the bus is back after ${event.downtimeMs} ms; events published meanwhile may have been lost`,
        ),
      ),
    ];
    try {
      const { types, since } = options;
      const sub = this.#bus.subscribe([this.#channel(channel)], {
        signal,
        ...(since === undefined ? {} : { since }),
      });
      await sub.ready;
      handlers.onOpen();
      for await (const item of sub.deliveries()) {
        if (item.kind === "gap") {
          const after = item.after === undefined ? "" : `after ${item.after} `;
          handlers.onNotice(
            `events ${after}are missing and cannot be recovered (${item.reason}); going on from ${item.resumeFrom ?? "now"}`,
          );
        } else if (item.kind === "event" && (types === undefined || types.has(item.event.type))) {
          handlers.onEvent(item.event, item.position);
        }
      }
    } finally {
      for (const stop of stopReporting) stop();
    }
  }

  close(): Promise<void> {
    return this.#bus.close();
  }

  #channel(channel: ChannelRef): string {
    return channel.kind === "project"
      ? this.#bus.getProjectChannel(channel.id)
      : this.#bus.getAgentChannel(channel.id);
  }
}
