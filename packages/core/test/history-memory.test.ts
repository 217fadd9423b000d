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
