import { describe, expect, it } from "vitest";
import { MemoryHistoryStore } from "../src/index.js";
import { describeHistoryStoreConformance } from "./history-store.conformance.js";

describeHistoryStoreConformance("memory", async () => {
  let now = Date.UTC(2026, 0, 1);
  const live = new Map<string, string[]>();
  return {
    newStore: (options) =>
      new MemoryHistoryStore({
        ...options,
        now: () => now,
        deliver: (channel, message) => live.get(channel)?.push(message),
      }),
    listen: async (channel) => {
      const messages: string[] = [];
      live.set(channel, messages);
      return messages;
    },
    expire: async (store, _channel, what) => {
      now += what === "events" ? store.settings.ttlMs : store.settings.metaTtlMs;
    },
    cleanup: async () => {},
  };
});

describe("memory history - one store per bus", () => {
  const data = '{"id":"a"}';

  it("a new store starts new epochs: positions of another store are of a foreign epoch", async () => {
    const [before, after] = [new MemoryHistoryStore(), new MemoryHistoryStore()];
    const channel = "events:project:6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";
    const { position } = await before.append(channel, { eventId: "a", data });
    await after.append(channel, { eventId: "a", data });
    expect(await after.read(channel, { since: position })).toMatchObject({
      complete: false,
      gap: "foreign-epoch",
    });
  });

  it("forgets idle channels as time passes, without a timer, and delivers nothing for a duplicate", async () => {
    let now = 0;
    const delivered: string[] = [];
    const store = new MemoryHistoryStore({
      ttlMs: 10,
      metaTtlMs: 20,
      now: () => now,
      deliver: (_channel, message) => delivered.push(message),
    });
    const old = await store.append("old", { eventId: "a", data });
    await store.append("old", { eventId: "a", data });
    expect(delivered).toEqual([
      `{"id":"a","_position":{"epoch":"${old.position.epoch}","offset":1}}`,
    ]);
    now = 15;
    await store.append("busy", { eventId: "b", data });
    expect(await store.read("old")).toMatchObject({
      gap: "expired",
      current: { epoch: old.position.epoch, offset: 1 },
    });
    // A consumer that had seen the last event misses nothing, expired or not.
    expect(await store.read("old", { since: old.position })).toMatchObject({ complete: true });
    now = 36; // "old" was last touched by the read at 15
    const fresh = await store.append("old", { eventId: "a", data });
    expect(fresh).toMatchObject({ duplicate: false, position: { offset: 1 } });
    expect(fresh.position.epoch).not.toBe(old.position.epoch);
  });
});
