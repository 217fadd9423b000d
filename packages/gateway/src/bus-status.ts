/**
 * What open streams are told when the bus's connection changes. Pub/Sub is
 * at-most-once: events published while the gateway is cut off from the bus
 * never reach its streams, so each stream hears when the window opens and
 * when it closes, with its length, instead of silently missing events.
 */
import type { ConnectionEvent } from "@eventbus/core";
import { formatMessage } from "./sse.js";

/** The SSE event names of the two notes: no event type has a name without a dot. */
export const BUS_STATUS_EVENTS = {
  disconnected: "disconnected",
  reconnected: "reconnected",
} as const;

/**
 * The SSE message for a connection change:
 * - `event: disconnected`, `data: {"at","message"}`;
 * - `event: reconnected`, `data: {"at","downtime_ms","message"}`.
 * No `id:`, so a browser's `Last-Event-ID` stays the last event's. The
 * driver's error is not included: it names the Redis server.
 */
export function formatBusStatus(event: ConnectionEvent): string {
  const at = event.at.toISOString();
  const data =
    event.state === "disconnected"
      ? {
          at,
          message:
            "the gateway lost its connection to the bus; events published until it is back may be lost",
        }
      : {
          at,
          downtime_ms: event.downtimeMs,
          message: `the gateway's connection to the bus is back after ${event.downtimeMs} ms; with history, events published meanwhile follow (an event: reload marks any it cannot recover); without, they may have been lost`,
        };
  return formatMessage({ event: BUS_STATUS_EVENTS[event.state], data: JSON.stringify(data) });
}
