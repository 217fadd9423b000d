import { EventBus, MemoryBroker, MemoryTransport } from "../src/index.js";
import { describeTransportConformance } from "./conformance.js";

describeTransportConformance("memory", async () => {
  const broker = new MemoryBroker();
  return {
    newBus: (options) => new EventBus({ ...options, transport: new MemoryTransport({ broker }) }),
    publishRaw: async (channel, data) => broker.publish(channel, data),
    serverSubscriptions: async (channel) => broker.subscriberCount(channel),
    cleanup: async () => {},
  };
});
