/** Helpers of the history test files: channels, events to append, and Redis stores on a fixture's server. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { RedisHistoryStore, type RedisHistoryStoreOptions } from "../src/history/redis-store.js";
import {
  type AppendInput,
  type Delivery,
  type Event,
  type EventBus,
  encodeEvent,
  parsePosition,
} from "../src/index.js";
import { sampleEvent, within } from "./helpers.js";
import { connectHistoryClient, type HistoryClient, type RedisFixture } from "./redis-helpers.js";

/** The project of the history tests' events. */
export const HISTORY_PROJECT = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";

/** A project channel no other test uses. */
export function newHistoryChannel(): string {
  return `events:project:${randomUUID()}`;
}

/** A fresh event of {@link HISTORY_PROJECT} with `payload`, and what appending it takes. */
export function appendable(payload: Event["payload"] = {}): { event: Event; input: AppendInput } {
  const event = sampleEvent(HISTORY_PROJECT, { payload });
  return { event, input: { eventId: event.id, data: encodeEvent(event) } };
}

/** A client with the history scripts on the describe block's server, and stores that use it. */
export interface HistoryStores {
  readonly client: HistoryClient;
  newStore(options?: Omit<RedisHistoryStoreOptions, "client">): RedisHistoryStore;
}

/** Registers the hooks that connect (before the tests) and destroy (after) the client of {@link HistoryStores}. */
export function useHistoryStores(redis: RedisFixture): HistoryStores {
  let client: HistoryClient | undefined;
  beforeAll(async () => {
    client = await connectHistoryClient(redis.server.url);
  });
  afterAll(() => client?.destroy());
  const connected = (): HistoryClient => {
    if (client === undefined)
      throw new Error("the history client is used before its beforeAll ran");
    return client;
  };
  return {
    get client() {
      return connected();
    },
    newStore: (options = {}) => new RedisHistoryStore({ ...options, client: connected }),
  };
}

/** The offset of a position this bus gave (fails the test on `undefined` or a malformed one). */
export function offsetOf(position: string | undefined): number {
  return parsePosition(position ?? "missing").offset;
}

/** Publishes `events` in order with history on; answers their positions. */
export async function publishAll(
  bus: EventBus,
  channel: string,
  events: readonly Event[],
): Promise<string[]> {
  const positions: string[] = [];
  for (const event of events) {
    const position = await bus.publish(channel, event);
    if (position === undefined) throw new Error("publish with history answered no position");
    positions.push(position);
  }
  return positions;
}

/** Reads deliveries until `done` holds for one (failing after `timeoutMs`); answers them all. */
export async function deliveriesUntil(
  items: AsyncIterator<Delivery>,
  done: (delivery: Delivery) => boolean,
  timeoutMs = 10_000,
): Promise<Delivery[]> {
  const seen: Delivery[] = [];
  const read = async (): Promise<Delivery[]> => {
    for (;;) {
      const result = await items.next();
      if (result.done) throw new Error(`deliveries ended after ${seen.length}`);
      seen.push(result.value);
      if (done(result.value)) return seen;
    }
  };
  return within(read(), timeoutMs, "deliveries");
}
