import { randomUUID } from "node:crypto";
import { createEvent, type Event, EventType, encodeEvent } from "@eventbus/core";

/**
 * Builds `count` events of one project whose wire JSON is about `bytes` long,
 * each carrying its index as `payload.seq` so receivers can tell them apart.
 * Built before a scenario is timed and shared by every contender, so all
 * publish the very same objects.
 */
export function eventPool(count: number, bytes: number, projectId: string): Event[] {
  const base = createEvent({
    type: EventType.AGENT_MESSAGE,
    project_id: projectId,
    actor_type: "agent",
    actor_id: randomUUID(),
    payload: { seq: 0, text: "" },
  });
  const padding = "x".repeat(Math.max(0, bytes - encodeEvent(base).length));
  const events: Event[] = new Array(count);
  for (let seq = 0; seq < count; seq++) {
    events[seq] = { ...base, id: randomUUID(), payload: { seq, text: padding } };
  }
  return events;
}

/**
 * Reads `payload.seq` from whatever a contender decoded (an `Event`, or the
 * plain object `JSON.parse` gives). Every contender calls it once per delivery,
 * so its small cost is the same for all.
 */
export function seqOf(decoded: unknown): number {
  const payload = (decoded as { payload?: { seq?: unknown } }).payload;
  const seq = payload?.seq;
  if (typeof seq !== "number") throw new TypeError("received an event without payload.seq");
  return seq;
}
