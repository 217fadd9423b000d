import { EventBus, MemoryBroker, MemoryTransport } from "../src/index.js";
import { type ConformanceFixture, describeTransportConformance } from "./conformance.js";
import { describeBusHistoryConformance } from "./history-bus.conformance.js";
import { describeResumeConformance } from "./resume.conformance.js";

async function setup(): Promise<ConformanceFixture> {
  const broker = new MemoryBroker();
  return {
    newBus: (options) => new EventBus({ ...options, transport: new MemoryTransport({ broker }) }),
    publishRaw: async (channel, data) => broker.publish(channel, data),
    serverSubscriptions: async (channel) => broker.subscriberCount(channel),
    cleanup: async () => {},
  };
}

describeTransportConformance("memory", setup);
describeBusHistoryConformance("memory", setup);
describeResumeConformance("memory", setup);
