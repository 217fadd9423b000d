import { randomUUID } from "node:crypto";
import {
  createEvent,
  type Event,
  type EventInput,
  EventType,
  type Subscription,
} from "../src/index.js";

/**
 * Waits until `predicate` holds, checking on every turn of the event loop, and
 * fails with `message` after `timeoutMs`. Tests synchronise with this, never
 * with fixed sleeps.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, message = "condition" }: { timeoutMs?: number; message?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Rejects with a clear message if `promise` has not settled within `timeoutMs`. */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs = 5_000,
  what = "promise",
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads exactly `count` events from `sub` (failing after `timeoutMs`). */
export async function take(sub: Subscription, count: number, timeoutMs = 5_000): Promise<Event[]> {
  const read = async (): Promise<Event[]> => {
    const events: Event[] = [];
    while (events.length < count) {
      const result = await sub.next();
      if (result.done)
        throw new Error(`subscription ended after ${events.length} of ${count} events`);
      events.push(result.value);
    }
    return events;
  };
  return within(read(), timeoutMs, `${count} events`);
}

/** A valid event of `projectId` with a recognisable payload; `overrides` replace any field. */
export function sampleEvent(projectId: string, overrides: Partial<EventInput> = {}): Event {
  return createEvent({
    type: EventType.ISSUE_CREATED,
    project_id: projectId,
    actor_type: "agent",
    actor_id: randomUUID(),
    payload: { issue_id: randomUUID(), title: "Fix the flaky build" },
    ...overrides,
  });
}
