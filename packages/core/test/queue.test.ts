import { describe, expect, it } from "vitest";
import { FifoQueue } from "../src/queue.js";

describe("queue - first in, first out", () => {
  it("keeps order across growth and wrap-around", () => {
    const queue = new FifoQueue<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round % 7; i++) queue.push(next++);
      for (let i = 0; i < round % 5 && queue.length > 0; i++) out.push(queue.shift() as number);
    }
    while (queue.length > 0) out.push(queue.shift() as number);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it("returns undefined when empty, and again once drained", () => {
    const queue = new FifoQueue<string>();
    expect(queue.shift()).toBeUndefined();
    for (const item of ["a", "b", "c", "d", "e"]) queue.push(item);
    for (const item of ["a", "b", "c", "d", "e"]) expect(queue.shift()).toBe(item);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    queue.push("f");
    expect(queue.shift()).toBe("f");
  });
});
