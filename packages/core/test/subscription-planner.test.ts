/**
 * The subscription planner, without I/O: each case is a script of steps and
 * what the planner must have decided by its end: the commands handed out (in
 * order), the live set a new connection would subscribe, and where each
 * subscriber's `ready` stands.
 */
import { describe, expect, it } from "vitest";
import type { SubscribeBatch } from "../src/subscribe-batch.js";
import { SubscriptionPlanner } from "../src/subscription-planner.js";

/**
 * One step of a script:
 * - `"a+ x y"`: subscriber `a` joins channels `x` and `y`;
 * - `"a- x"`: `a` leaves `x`;
 * - `"take"`: the caller takes the commands waiting and sends them;
 * - `"ok 2"` / `"fail 2"`: the server confirms / refuses the second SUBSCRIBE sent.
 */
type Step = `${string}+ ${string}` | `${string}- ${string}` | "take" | `${"ok" | "fail"} ${number}`;

type Readiness = "ready" | "pending" | "failed";

interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Every command taken, in order. */
  readonly sent: readonly string[];
  readonly live: readonly string[];
  /** Each subscriber's `ready`, as of its last join. */
  readonly ready?: Readonly<Record<string, Readiness>>;
  /** Which joins opened the turn's batch, in order of the joins. */
  readonly opened?: readonly boolean[];
}

const CASES = [
  {
    name: "the first subscriber of a channel queues a SUBSCRIBE; the server's answer readies it",
    steps: ["a+ x", "take", "ok 1"],
    sent: ["SUBSCRIBE x"],
    live: ["x"],
    ready: { a: "ready" },
  },
  {
    name: "nothing is sent until taken, and the channel is not live meanwhile",
    steps: ["a+ x"],
    sent: [],
    live: [],
    ready: { a: "pending" },
  },
  {
    name: "the joins of one turn cost one SUBSCRIBE, opened by the first",
    steps: ["a+ x", "b+ y z", "c+ x", "take"],
    sent: ["SUBSCRIBE x y z"],
    live: ["x", "y", "z"],
    ready: { a: "pending", b: "pending", c: "pending" },
    opened: [true, false, false],
  },
  {
    name: "a subscriber joining a channel whose SUBSCRIBE is in flight waits on it, sending nothing",
    steps: ["a+ x", "take", "b+ x", "take"],
    sent: ["SUBSCRIBE x"],
    live: ["x"],
    ready: { a: "pending", b: "pending" },
    opened: [true, false],
  },
  {
    name: "a subscriber joining a confirmed channel is ready at once",
    steps: ["a+ x", "take", "ok 1", "b+ x", "take"],
    sent: ["SUBSCRIBE x"],
    live: ["x"],
    ready: { a: "ready", b: "ready" },
  },
  {
    name: "a channel is unsubscribed when its last subscriber leaves, not before",
    steps: ["a+ x", "b+ x", "take", "ok 1", "a- x", "take", "b- x", "take"],
    sent: ["SUBSCRIBE x", "UNSUBSCRIBE x"],
    live: [],
  },
  {
    name: "leaving ignores channels the subscriber does not have, and a second leave",
    steps: ["a+ x", "b+ x", "take", "a- x never", "a- x", "take"],
    sent: ["SUBSCRIBE x"],
    live: ["x"],
  },
  {
    name: "a leave closes the turn's batch early: its SUBSCRIBE goes out before the UNSUBSCRIBE",
    steps: ["a+ x", "b+ y", "a- x", "take"],
    sent: ["SUBSCRIBE x y", "UNSUBSCRIBE x"],
    live: ["y"],
  },
  {
    name: "a channel left and joined again in one turn ends subscribed",
    steps: ["a+ x", "take", "ok 1", "a- x", "b+ x", "take", "ok 2"],
    sent: ["SUBSCRIBE x", "UNSUBSCRIBE x", "SUBSCRIBE x"],
    live: ["x"],
    ready: { a: "ready", b: "ready" },
  },
  {
    name: "commands wait in order until taken (as while the transport opens)",
    steps: ["a+ x", "a- x", "b+ x y", "b- y", "take"],
    sent: ["SUBSCRIBE x", "UNSUBSCRIBE x", "SUBSCRIBE x y", "UNSUBSCRIBE y"],
    live: ["x"],
    ready: { a: "pending", b: "pending" },
  },
  {
    name: "a stale confirmation does not ready a channel wanted again since",
    steps: ["a+ x", "take", "a- x", "b+ x", "take", "ok 1", "c+ x"],
    sent: ["SUBSCRIBE x", "UNSUBSCRIBE x", "SUBSCRIBE x"],
    live: ["x"],
    ready: { a: "ready", b: "pending", c: "pending" },
  },
  {
    name: "a subscriber of several channels is ready once every SUBSCRIBE it waits on is",
    steps: ["a+ x", "take", "b+ x y", "take", "ok 2"],
    sent: ["SUBSCRIBE x", "SUBSCRIBE y"],
    live: ["x", "y"],
    ready: { a: "pending", b: "pending" },
  },
  {
    name: "... and fails if any of them fails",
    steps: ["a+ x", "take", "b+ x y", "take", "ok 2", "fail 1"],
    sent: ["SUBSCRIBE x", "SUBSCRIBE y"],
    live: ["y"],
    ready: { a: "failed", b: "failed" },
  },
  {
    name: "a failed SUBSCRIBE fails those who join meanwhile, and its channels are not live",
    steps: ["a+ x y", "take", "fail 1", "b+ x", "take"],
    sent: ["SUBSCRIBE x y"],
    live: [],
    ready: { a: "failed", b: "failed" },
  },
  {
    name: "the subscribers of a failed SUBSCRIBE leave it: an UNSUBSCRIBE follows, as after a success",
    steps: ["a+ x y", "b+ x", "take", "fail 1", "a- x y", "b- x", "take"],
    sent: ["SUBSCRIBE x y", "UNSUBSCRIBE y", "UNSUBSCRIBE x"],
    live: [],
  },
  {
    name: "the live set: channels sent or confirmed, neither queued nor failed",
    steps: ["a+ x", "take", "ok 1", "b+ y", "take", "c+ z", "take", "fail 3", "d+ w"],
    sent: ["SUBSCRIBE x", "SUBSCRIBE y", "SUBSCRIBE z"],
    live: ["x", "y"],
    ready: { a: "ready", b: "pending", c: "failed", d: "pending" },
  },
] as const satisfies readonly Case[];

/** Where `promise` stands once every pending callback has run. */
async function readiness(promise: Promise<void>): Promise<Readiness> {
  const pending = new Promise<Readiness>((resolve) => setImmediate(() => resolve("pending")));
  return Promise.race([
    promise.then(
      () => "ready" as const,
      () => "failed" as const,
    ),
    pending,
  ]);
}

/** Runs a script on a fresh planner; returns what it decided. */
function run(steps: readonly Step[]) {
  const planner = new SubscriptionPlanner<string, null>();
  const sent: string[] = [];
  const batches: SubscribeBatch[] = [];
  const ready = new Map<string, Promise<void>>();
  const opened: boolean[] = [];
  for (const step of steps) {
    const [head = "", ...channels] = step.split(" ");
    if (step === "take") {
      for (const command of planner.takeCommands()) {
        if (command.kind === "subscribe") {
          batches.push(command.batch);
          sent.push(`SUBSCRIBE ${command.batch.channels.join(" ")}`);
        } else {
          sent.push(`UNSUBSCRIBE ${command.channels.join(" ")}`);
        }
      }
    } else if (head === "ok" || head === "fail") {
      const batch = batches[Number(channels[0]) - 1];
      if (batch === undefined) throw new Error(`no SUBSCRIBE sent as #${channels[0]}`);
      if (head === "ok") planner.confirmed(batch);
      else planner.failed(batch, new Error("refused"));
    } else if (head.endsWith("+")) {
      const joined = planner.join(head.slice(0, -1), channels, () => null);
      ready.set(head.slice(0, -1), joined.ready);
      opened.push(joined.opened);
    } else if (head.endsWith("-")) {
      planner.leave(head.slice(0, -1), channels);
    } else {
      throw new Error(`unknown step ${step}`);
    }
  }
  return { planner, sent, ready, opened };
}

describe("subscription planner - commands, live set and readiness", () => {
  for (const { name, steps, ...expected } of CASES as readonly Case[]) {
    it(name, async () => {
      const { planner, sent, ready, opened } = run(steps);
      expect(sent).toEqual(expected.sent);
      expect(planner.live()).toEqual(expected.live);
      if (expected.ready !== undefined) {
        const states: Record<string, Readiness> = {};
        for (const [subscriber, promise] of ready) states[subscriber] = await readiness(promise);
        expect(states).toEqual(expected.ready);
      }
      if (expected.opened !== undefined) expect(opened).toEqual(expected.opened);
    });
  }
});

describe("subscription planner - channels and subscribers", () => {
  it("describes a channel once, when first wanted, and lists its subscribers in order", () => {
    const described: string[] = [];
    const describe = (channel: string) => {
      described.push(channel);
      return channel.toUpperCase();
    };
    const planner = new SubscriptionPlanner<string, string>();
    planner.join("a", ["x", "y"], describe);
    planner.join("b", ["y", "z"], describe);
    planner.join("b", ["y"], describe);
    expect(described).toEqual(["x", "y", "z"]);
    expect(planner.get("y")?.meta).toBe("Y");
    expect([...(planner.get("y")?.subscribers ?? [])]).toEqual(["a", "b"]);
    expect(planner.get("y")?.subscribers.size).toBe(2);
    expect(planner.size).toBe(3);
  });

  it("forgets a channel when its last subscriber leaves", () => {
    const planner = new SubscriptionPlanner<string, null>();
    planner.join("a", ["x", "y"], () => null);
    planner.join("b", ["y"], () => null);
    expect(planner.leave("a", ["x", "y"])).toBe(true);
    expect(planner.get("x")).toBeUndefined();
    expect([...(planner.get("y")?.subscribers ?? [])]).toEqual(["b"]);
    expect(planner.leave("b", ["y"])).toBe(true);
    expect(planner.leave("b", ["y"])).toBe(false);
    expect(planner.size).toBe(0);
  });

  it("lists every distinct subscriber once", () => {
    const planner = new SubscriptionPlanner<string, null>();
    planner.join("a", ["x", "y"], () => null);
    planner.join("b", ["y"], () => null);
    expect([...planner.subscribers()].sort()).toEqual(["a", "b"]);
  });

  it("a subscriber leaving during a delivery loop does not disturb the loop", () => {
    const planner = new SubscriptionPlanner<string, null>();
    for (const subscriber of ["a", "b", "c"]) planner.join(subscriber, ["x"], () => null);
    const visited: string[] = [];
    for (const subscriber of planner.get("x")?.subscribers ?? []) {
      visited.push(subscriber);
      if (subscriber === "a") planner.leave("b", ["x"]);
    }
    expect(visited).toEqual(["a", "b", "c"]);
    expect([...(planner.get("x")?.subscribers ?? [])]).toEqual(["a", "c"]);
  });

  it("hands out no command twice", () => {
    const planner = new SubscriptionPlanner<string, null>();
    planner.join("a", ["x"], () => null);
    planner.leave("a", ["x"]);
    expect(planner.takeCommands()).toHaveLength(2);
    expect(planner.takeCommands()).toEqual([]);
  });
});
