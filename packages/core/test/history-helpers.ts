/** Helpers of the history test files: channels, events to append, and Redis stores on a fixture's server. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { RedisHistoryStore, type RedisHistoryStoreOptions } from "../src/history/redis-store.js";
import { type AppendInput, type Event, encodeEvent } from "../src/index.js";
import { sampleEvent } from "./helpers.js";
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
