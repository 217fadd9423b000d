/**
 * What the bus asks of its transport, seen from a transport the test drives:
 * the planner's commands in order, nothing before the transport is open, and
 * the live set it offers for a reconnect.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BusClosedError,
  EventBus,
  NotConnectedError,
  SubscribeFailedError,
  type Transport,
  type TransportSink,
} from "../src/index.js";

/**
 * A transport that records the calls, opens when told, refuses the channels it
 * is told to, and, once closed, every SUBSCRIBE.
 */
class ScriptedTransport implements Transport {
  readonly calls: string[] = [];
  readonly refused = new Set<string>();
  sink: TransportSink | undefined;
  #closed = false;
  #opened: { resolve(): void; reject(error: Error): void } | undefined;

  open(sink: TransportSink): Promise<void> {
    this.sink = sink;
    return new Promise((resolve, reject) => {
      this.#opened = { resolve, reject };
    });
  }
  /** Lets `open` resolve, or reject with `error`. */
  finishOpening(error?: Error): void {
    if (error === undefined) this.#opened?.resolve();
    else this.#opened?.reject(error);
  }
  async publish(): Promise<void> {}
  async subscribe(channels: readonly string[]): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    this.calls.push(`SUBSCRIBE ${channels.map(short).join(" ")}`);
    if (channels.some((channel) => this.refused.has(channel))) throw new Error("NOPERM");
  }
  async unsubscribe(channels: readonly string[]): Promise<void> {
    this.calls.push(`UNSUBSCRIBE ${channels.map(short).join(" ")}`);
  }
  async close(): Promise<void> {
    this.#closed = true;
    this.calls.push("CLOSE");
  }
}

const names = new Map<string, string>();
/** A channel's name in the recorded calls: x, y, z, in order of first use. */
function short(channel: string): string {
  return names.get(channel) ?? channel;
}

function setup() {
  const transport = new ScriptedTransport();
  const bus = new EventBus({ transport });
  const [x, y, z] = ["x", "y", "z"].map((name) => {
    const channel = bus.getProjectChannel(randomUUID());
    names.set(channel, name);
    return channel as string;
  }) as [string, string, string];
  const live = () => (transport.sink?.liveChannels() ?? []).map(short);
  return { transport, bus, x, y, z, live };
}

describe("bus and transport - commands", () => {
  it("commands - nothing goes out while the transport opens; then everything, in order", async () => {
    const { transport, bus, x, y, live } = setup();
    const first = bus.subscribe([x]);
    first.unsubscribe();
    const second = bus.subscribe([x, y]);
    bus.subscribe([y]).unsubscribe();
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.calls).toEqual([]);
    expect(live()).toEqual([]);
    transport.finishOpening();
    await second.ready;
    expect(transport.calls).toEqual(["SUBSCRIBE x", "UNSUBSCRIBE x", "SUBSCRIBE x y"]);
    expect(live()).toEqual(["x", "y"]);
    await bus.close();
  });

  it("commands - the subscribe calls of one turn cost one SUBSCRIBE; the last leave one UNSUBSCRIBE", async () => {
    const { transport, bus, x, y, z, live } = setup();
    transport.finishOpening();
    const subs = [bus.subscribe([x]), bus.subscribe([x, y]), bus.subscribe([z])];
    await Promise.all(subs.map((sub) => sub.ready));
    expect(transport.calls).toEqual(["SUBSCRIBE x y z"]);
    expect(live()).toEqual(["x", "y", "z"]);
    subs[0]?.unsubscribe();
    subs[1]?.unsubscribe();
    expect(transport.calls).toEqual(["SUBSCRIBE x y z", "UNSUBSCRIBE x y"]);
    expect(live()).toEqual(["z"]);
    await bus.close();
  });

  it("commands - a refused SUBSCRIBE fails ready with SubscribeFailedError and leaves the channel out of the live set", async () => {
    const { transport, bus, x, y, live } = setup();
    transport.finishOpening();
    await bus.subscribe([x]).ready;
    transport.refused.add(y);
    const refused = bus.subscribe([y]);
    await expect(refused.ready).rejects.toBeInstanceOf(SubscribeFailedError);
    expect(await refused.closed).toBeInstanceOf(SubscribeFailedError);
    expect(live()).toEqual(["x"]);
    expect(transport.calls).toEqual(["SUBSCRIBE x", "SUBSCRIBE y", "UNSUBSCRIBE y"]);
    await bus.close();
  });

  it("commands - a transport that fails to open fails every waiting subscription with its error, and sends nothing", async () => {
    const { transport, bus, x, y } = setup();
    const before = bus.subscribe([x]);
    const failure = new NotConnectedError("connecting waited 1 ms");
    transport.finishOpening(failure);
    await expect(before.ready).rejects.toBe(failure);
    await expect(bus.subscribe([y]).ready).rejects.toBe(failure);
    expect(transport.calls).toEqual([]);
    await bus.close();
  });

  it("commands - close() while opening: the subscription ends, and its ready fails with the transport's answer", async () => {
    const { transport, bus, x } = setup();
    const sub = bus.subscribe([x]);
    const closing = bus.close();
    transport.finishOpening();
    await closing;
    await expect(sub.ready).rejects.toBeInstanceOf(BusClosedError);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });
});
