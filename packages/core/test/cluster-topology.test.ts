import { anyValue } from "@eventbus/test-fuzz";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  groupBySlot,
  parseClusterSlots,
  probeChannelFor,
  SLOT_COUNT,
  slotOf,
} from "../src/transports/cluster-topology.js";

const SEED = { host: "10.0.0.9", port: 7000 };

describe("cluster topology - slots", () => {
  it("cluster topology - slots are Redis's: CRC16 of the name, or of its hash tag", () => {
    // Each expected slot is what `CLUSTER KEYSLOT` answered on a Redis 7.0 cluster.
    const expected: [string, number][] = [
      ["123456789", 12739],
      ["foo", 12182],
      ["user1000", 3443],
      ["{user1000}.following", 3443],
      ["foo{}{bar}", 8363],
      ["foo{{bar}}zap", 4015],
      ["foo{bar}{zap}", 5061],
      ["events:project:3fa85f64-5717-4562-b3fc-2c963f66afa6", 12120],
      ["é", 10180],
      ["канал", 7322],
      ["😀{x}", 16287],
      ["{}", 15257],
    ];
    for (const [name, slot] of expected) expect([name, slotOf(name)]).toEqual([name, slot]);
  });

  it("cluster topology - a channel's history keys share its slot", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((name) => !/[{}]/.test(name)),
        (channel) => {
          const slot = slotOf(channel);
          expect(slotOf(`{${channel}}:history`)).toBe(slot);
          expect(slotOf(`{${channel}}:meta`)).toBe(slot);
          expect(slot).toBeGreaterThanOrEqual(0);
          expect(slot).toBeLessThan(SLOT_COUNT);
        },
      ),
    );
  });

  it("cluster topology - channels grouped by slot, one group per slot, order kept", () => {
    const channels = ["{a}1", "{b}1", "{a}2", "{c}1", "{b}2"];
    expect(groupBySlot(channels)).toEqual([["{a}1", "{a}2"], ["{b}1", "{b}2"], ["{c}1"]]);
    expect(groupBySlot([])).toEqual([]);
  });
});

describe("cluster topology - CLUSTER SLOTS", () => {
  const reply = [
    [0, 5460, ["10.0.0.1", 7000, "id1"], ["10.0.0.4", 7000, "id4", {}]],
    [5461, 10922, ["", 7000, "id2"], ["?", 7000, "id5"]],
    [10923, 16000, ["10.0.0.3", 7000, "id3"]],
    [16001, 16383, ["10.0.0.1", 7000, "id1"]],
  ];

  it("cluster topology - each slot's master; an empty host is the node asked; an unknown one is skipped", () => {
    const topology = parseClusterSlots(reply, SEED);
    expect(topology.masters).toEqual(["10.0.0.1:7000", "10.0.0.9:7000", "10.0.0.3:7000"]);
    expect(topology.ownerOf(0)).toBe("10.0.0.1:7000");
    expect(topology.ownerOf(5461)).toBe("10.0.0.9:7000");
    expect(topology.ownerOf(16000)).toBe("10.0.0.3:7000");
    expect(topology.ownerOf(16383)).toBe("10.0.0.1:7000");
    expect([...topology.nodes.keys()].sort()).toEqual([
      "10.0.0.1:7000",
      "10.0.0.3:7000",
      "10.0.0.4:7000",
      "10.0.0.9:7000",
    ]);
  });

  it("cluster topology - slots nobody serves have no owner; a topology differs when any owner does", () => {
    const partial = parseClusterSlots([[0, 99, ["10.0.0.1", 7000, "id1"]]], SEED);
    expect(partial.ownerOf(99)).toBe("10.0.0.1:7000");
    expect(partial.ownerOf(100)).toBeUndefined();
    const full = parseClusterSlots(reply, SEED);
    expect(full.differs(parseClusterSlots(reply, SEED))).toBe(false);
    expect(full.differs(partial)).toBe(true);
  });

  it("cluster topology - a probe channel in a slot of its master, kept while the master serves it", () => {
    const topology = parseClusterSlots(reply, SEED);
    for (const key of topology.masters) {
      const channel = probeChannelFor(topology, key, "probe:", undefined);
      expect(channel).toMatch(/^probe:\d+$/);
      expect(topology.ownerOf(slotOf(channel ?? ""))).toBe(key);
      expect(probeChannelFor(topology, key, "probe:", channel)).toBe(channel);
    }
    const moved = parseClusterSlots([[0, 16383, ["10.0.0.3", 7000, "id3"]]], SEED);
    const first = probeChannelFor(topology, "10.0.0.1:7000", "probe:", undefined);
    expect(probeChannelFor(moved, "10.0.0.3:7000", "probe:", undefined)).toBe("probe:0");
    expect(probeChannelFor(moved, "10.0.0.1:7000", "probe:", first)).toBeUndefined();
  });

  it("cluster topology - a reply of another shape is a TypeError", () => {
    const bad: unknown[] = [
      "OK",
      [[0, 16384, ["h", 1]]],
      [[5, 4, ["h", 1]]],
      [[0, 1]],
      [[0, 1, ["h"]]],
      [[0, 1, ["h", "7000"]]],
      [[0, 1, [7, 7000]]],
      [[0, 1, ["h", 70_000]]],
      [["0", 1, ["h", 1]]],
    ];
    for (const value of bad) expect(() => parseClusterSlots(value, SEED)).toThrow(TypeError);
  });

  it("cluster topology - no reply, however malformed, throws anything but a TypeError", () => {
    const node = fc.tuple(fc.oneof(fc.string(), anyValue), fc.oneof(fc.integer(), anyValue));
    const range = fc.tuple(
      fc.oneof(fc.integer({ min: -2, max: SLOT_COUNT + 1 }), anyValue),
      fc.oneof(fc.integer({ min: -2, max: SLOT_COUNT + 1 }), anyValue),
      fc.oneof(node, anyValue),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(range), anyValue), (value) => {
        try {
          const topology = parseClusterSlots(value, SEED);
          for (const key of topology.masters) expect(topology.nodes.has(key)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }),
    );
  });
});
