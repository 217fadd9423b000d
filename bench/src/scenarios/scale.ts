import { randomUUID } from "node:crypto";
import { ChannelNames } from "@eventbus/core";
import type { Contender } from "../contenders.js";
import { collectGarbage, type Runner, type Scenario, type Target } from "../harness.js";

/** How a subscription-scale scenario is sized. */
export interface ScaleSpec {
  readonly contenders: readonly Contender[];
  readonly reference: Contender;
  readonly targets: readonly Target[];
  /** Subscriptions per run, one channel each. */
  readonly channels: number;
  readonly warmups: number;
  readonly rounds: number;
}

/**
 * Scenario 5: each run connects a contender, subscribes one subscriber to each
 * of `channels` distinct channels, then closes. Heap is measured after full
 * collections (so the process needs `--expose-gc`): the growth over the
 * connected-but-idle client, divided by the number of subscriptions.
 */
export function scaleScenario(spec: ScaleSpec): Scenario {
  const names = new ChannelNames();
  return {
    id: "subscriptions",
    title: `5. Scale of subscriptions (${spec.channels.toLocaleString("en-US")} channels)`,
    description:
      "One subscriber per channel on one connection (the raw client with one shared listener); heap per subscription after GC, and the time until the server confirmed all.",
    metrics: [
      { key: "heapPerSub", unit: "B/sub", better: "lower" },
      { key: "subscribeMs", unit: "ms", better: "lower" },
    ],
    contenders: spec.contenders.map((contender) => contender.name),
    reference: spec.reference.name,
    targets: spec.targets,
    warmups: spec.warmups,
    rounds: spec.rounds,
    async open(context) {
      if (globalThis.gc === undefined)
        throw new Error("the subscription scenario needs node --expose-gc");
      return spec.contenders.map(
        (contender): Runner => ({
          name: contender.name,
          async run() {
            const channels = Array.from({ length: spec.channels }, () =>
              names.project(randomUUID()),
            );
            const holder = await openHolder(contender, context.redisUrl);
            try {
              collectGarbage();
              const before = process.memoryUsage().heapUsed;
              const start = performance.now();
              await holder.subscribeAll(channels);
              const subscribeMs = performance.now() - start;
              collectGarbage();
              const heapPerSub = (process.memoryUsage().heapUsed - before) / spec.channels;
              return { heapPerSub, subscribeMs };
            } finally {
              await holder.close();
            }
          },
          close: async () => {},
        }),
      );
    },
  };
}

function openHolder(contender: Contender, redisUrl: string) {
  if (contender.openHolder === undefined) {
    throw new Error(`${contender.name} has no subscription-scale setup`);
  }
  return contender.openHolder(redisUrl);
}
