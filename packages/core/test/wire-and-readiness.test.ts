import { describe, expect, it } from "vitest";
import {
  createEventBus,
  decodeEvent,
  EventBus,
  encodeEvent,
  parseWireEvent,
  type Transport,
  type TransportSink,
  ValidationError,
} from "../src/index.js";
import { sampleEvent } from "./helpers.js";

const projectId = "6f1c2a4e-8b3d-4c5e-9f7a-0b1c2d3e4f5a";

describe("parseWireEvent", () => {
  it("parseWireEvent - reads parsed wire JSON as decodeEvent reads its text", () => {
    const wire = encodeEvent(sampleEvent(projectId));
    expect(parseWireEvent(JSON.parse(wire))).toEqual(decodeEvent(wire));
  });

  it("parseWireEvent - lists every invalid field", () => {
    const invalid = { id: "x", type: "nope", timestamp: "yesterday", project_id: "p" };
    expect(() => parseWireEvent(invalid)).toThrow(ValidationError);
    for (const field of ["type", "timestamp", "project_id", "actor_type", "payload"]) {
      expect(() => parseWireEvent(invalid)).toThrow(new RegExp(`\\b${field}: `));
    }
  });
});

/** A transport whose connection state the test drives. */
class ControlledTransport implements Transport {
  sink: TransportSink | undefined;
  async open(sink: TransportSink): Promise<void> {
    this.sink = sink;
  }
  async publish(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}
  async close(): Promise<void> {}
}

describe("connected", () => {
  it("connected - true once open, false between disconnected and reconnected, false after close", async () => {
    const transport = new ControlledTransport();
    const bus = new EventBus({ transport });
    await bus.subscribe([bus.getProjectChannel(projectId)]).ready;
    expect(bus.connected).toBe(true);
    transport.sink?.connection({ state: "disconnected" });
    expect(bus.connected).toBe(false);
    transport.sink?.connection({ state: "reconnected", downtimeMs: 5 });
    expect(bus.connected).toBe(true);
    await bus.close();
    expect(bus.connected).toBe(false);
  });

  it("connected - the in-memory bus is connected once opened", async () => {
    const bus = createEventBus();
    await bus.subscribe([bus.getProjectChannel(projectId)]).ready;
    expect(bus.connected).toBe(true);
    await bus.close();
  });
});
