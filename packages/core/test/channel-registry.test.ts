import { describe, expect, it } from "vitest";
import { ChannelRegistry } from "../src/channel-registry.js";

const describeChannel = (channel: string) => ({ name: channel.toUpperCase() });

describe("channel registry - reference counting", () => {
  it("asks to subscribe a channel for its first subscriber only", () => {
    const registry = new ChannelRegistry<string, { name: string }>();
    expect(registry.add("a", ["x", "y"], describeChannel)).toEqual(["x", "y"]);
    expect(registry.add("b", ["y", "z"], describeChannel)).toEqual(["z"]);
    expect(registry.channels()).toEqual(["x", "y", "z"]);
    expect(registry.get("y")?.meta).toEqual({ name: "Y" });
    expect([...(registry.get("y")?.subscribers ?? [])]).toEqual(["a", "b"]);
  });

  it("asks to unsubscribe a channel when its last subscriber leaves", () => {
    const registry = new ChannelRegistry<string, { name: string }>();
    registry.add("a", ["x", "y"], describeChannel);
    registry.add("b", ["y"], describeChannel);
    expect(registry.remove("a", ["x", "y"])).toEqual(["x"]);
    expect(registry.remove("b", ["y"])).toEqual(["y"]);
    expect(registry.channels()).toEqual([]);
    expect(registry.get("y")).toBeUndefined();
  });

  it("ignores removing a subscriber twice or from channels it never had", () => {
    const registry = new ChannelRegistry<string, { name: string }>();
    registry.add("a", ["x"], describeChannel);
    registry.add("b", ["x"], describeChannel);
    expect(registry.remove("a", ["x", "never"])).toEqual([]);
    expect(registry.remove("a", ["x"])).toEqual([]);
    expect(registry.get("x")?.subscribers.size).toBe(1);
  });

  it("lists every distinct subscriber once", () => {
    const registry = new ChannelRegistry<string, { name: string }>();
    registry.add("a", ["x", "y"], describeChannel);
    registry.add("b", ["y"], describeChannel);
    expect([...registry.subscribers()].sort()).toEqual(["a", "b"]);
  });
});

describe("channel registry - confirmations", () => {
  it("shares an in-flight confirmation with subscribers that join meanwhile", () => {
    const registry = new ChannelRegistry<string, null>();
    const inFlight = new Promise<void>(() => {});
    registry.confirm(
      registry.add("a", ["x"], () => null),
      inFlight,
    );
    expect(registry.add("b", ["x"], () => null)).toEqual([]);
    expect(registry.confirmations(["x"])).toEqual([inFlight]);
  });

  it("returns each distinct confirmation once for a multi-channel subscriber", () => {
    const registry = new ChannelRegistry<string, null>();
    const first = Promise.resolve();
    const second = Promise.resolve();
    registry.confirm(
      registry.add("a", ["x", "y"], () => null),
      first,
    );
    registry.confirm(
      registry.add("b", ["x", "y", "z"], () => null),
      second,
    );
    expect(registry.confirmations(["x", "y", "z"])).toEqual([first, second]);
  });

  it("starts a new confirmation when a channel is re-added after its last subscriber left", () => {
    const registry = new ChannelRegistry<string, null>();
    const old = Promise.resolve();
    registry.confirm(
      registry.add("a", ["x"], () => null),
      old,
    );
    registry.remove("a", ["x"]);
    expect(registry.add("b", ["x"], () => null)).toEqual(["x"]);
    expect(registry.confirmations(["x"])).toEqual([]);
    const fresh = Promise.resolve();
    registry.confirm(["x"], fresh);
    expect(registry.confirmations(["x"])).toEqual([fresh]);
  });

  it("does not record a confirmation for a channel removed before it was recorded", () => {
    const registry = new ChannelRegistry<string, null>();
    const added = registry.add("a", ["x"], () => null);
    registry.remove("a", ["x"]);
    registry.confirm(added, Promise.resolve());
    expect(registry.get("x")).toBeUndefined();
  });
});
