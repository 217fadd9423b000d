import { startRedisServer } from "@eventbus/test-redis";
import { createEventBus } from "../src/index.js";
import { type ConformanceFixture, describeTransportConformance } from "./conformance.js";
import { describeBusHistoryConformance } from "./history-bus.conformance.js";
import { connectRaw, serverSubscriptions } from "./redis-helpers.js";
import { describeResumeConformance } from "./resume.conformance.js";

async function setup(): Promise<ConformanceFixture> {
  const server = await startRedisServer();
  const raw = await connectRaw(server.url);
  return {
    newBus: (options) => createEventBus(server.url, options),
    publishRaw: async (channel, data) => {
      await raw.publish(channel, data);
    },
    serverSubscriptions: (channel) => serverSubscriptions(raw, channel),
    cleanup: async () => {
      raw.destroy();
      await server.stop();
    },
  };
}

describeTransportConformance("redis", setup);
describeBusHistoryConformance("redis", setup);
describeResumeConformance("redis", setup);
