import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createEventBus, EventBus, UnsupportedUrlError } from "../src/index.js";
import { sampleEvent, take } from "./helpers.js";

describe("createEventBus - URLs", () => {
  it.each([undefined, "", "memory://"])("gives a working in-memory bus for %j", async (url) => {
    const bus = createEventBus(url);
    expect(bus).toBeInstanceOf(EventBus);
    const projectId = randomUUID();
    const sub = bus.subscribe([bus.getProjectChannel(projectId)]);
    await sub.ready;
    const event = sampleEvent(projectId);
    await bus.publish(bus.getProjectChannel(projectId), event);
    expect(await take(sub, 1)).toEqual([event]);
    await bus.close();
  });

  it.each(["ftp://host", "nats://localhost:4222", "not a url", "redis"])(
    "refuses %j with a typed error",
    (url) => {
      expect(() => createEventBus(url)).toThrow(UnsupportedUrlError);
    },
  );

  it("applies options such as the channel prefix", async () => {
    const bus = createEventBus(undefined, { channelPrefix: "tenant-7" });
    expect(bus.getAgentChannel("6F1C2A3B-4D5E-4F60-8A1B-2C3D4E5F6A7B")).toBe(
      "tenant-7:agent:6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b",
    );
    await bus.close();
  });

  it("refuses bounds that are not positive integers", () => {
    expect(() => createEventBus(undefined, { bufferSize: 0 })).toThrow(RangeError);
    expect(() => createEventBus(undefined, { maxEventBytes: 1.5 })).toThrow(RangeError);
  });
});
