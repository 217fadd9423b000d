import { randomUUID } from "node:crypto";
import { createEvent, type Event, EventType, encodeEvent } from "@eventbus/core";

/**
 * Builds `count` events whose wire JSON is about `bytes` long, each carrying
 * its index as `payload.seq` so receivers can tell them apart. Built before a
 * scenario is timed and shared by every contender, so all publish the very
 * same objects. With several projects, each event goes to one of them picked
 * at random (the same picks on every call).
 */
export function eventPool(
  count: number,
  bytes: number,
  projects: string | readonly string[],
): Event[] {
  const ids = typeof projects === "string" ? [projects] : projects;
  const pick = seededRandom(count);
  const base = createEvent({
    type: EventType.AGENT_MESSAGE,
    project_id: ids[0] as string,
    actor_type: "agent",
    actor_id: randomUUID(),
    payload: { seq: 0, text: "" },
  });
  const padding = "x".repeat(Math.max(0, bytes - encodeEvent(base).length));
  const events: Event[] = new Array(count);
  for (let seq = 0; seq < count; seq++) {
    const project_id = ids[Math.floor(pick() * ids.length)] as string;
    events[seq] = { ...base, id: randomUUID(), project_id, payload: { seq, text: padding } };
  }
  return events;
}

/** A small seeded generator of numbers in [0, 1) (mulberry32), so runs pick alike. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
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
