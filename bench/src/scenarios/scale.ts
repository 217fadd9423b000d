import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { ChannelNames } from "@eventbus/core";
import { CONTENDERS, type Contender } from "../contenders.js";
import {
  collectGarbage,
  type Lineup,
  lineupOf,
  openSelected,
  type Runner,
  type Sample,
  type Scenario,
} from "../harness.js";

/** How a subscription-scale scenario is sized. */
export interface ScaleSpec extends Lineup {
  readonly contenders: readonly Contender[];
  /** Subscriptions per run, one channel each. */
  readonly channels: number;
}

const CHILD = new URL(import.meta.url);

/**
 * Scenario 5: each run connects a contender, subscribes one subscriber to each
 * of `channels` distinct channels, and measures the heap growth per
 * subscription and the time until the server confirmed all. Each run is a
 * child process of its own (this file, run as a script): in one process the
 * garbage of the previous run, freed late (sockets closing, timers), would be
 * counted against the next.
 */
export function scaleScenario(spec: ScaleSpec): Scenario {
  return {
    id: "subscriptions",
    title: `5. Scale of subscriptions (${spec.channels.toLocaleString("en-US")} channels)`,
    description:
      "One subscriber per channel on one connection (the raw client with one shared listener); heap per subscription after GC, and the time until the server confirmed all. Each run in a fresh process.",
    metrics: [
      { key: "heapPerSub", unit: "B/sub", better: "lower" },
      { key: "subscribeMs", unit: "ms", better: "lower" },
    ],
    ...lineupOf(spec),
    open: (context) =>
      openSelected(
        spec.contenders,
        context,
        async (contender): Promise<Runner> => ({
          name: contender.name,
          run: async () => {
            const { stdout } = await promisify(execFile)(process.execPath, [
              "--expose-gc",
              ...process.execArgv.filter((arg) => arg !== "--expose-gc"),
              CHILD.pathname,
              contender.name,
              String(spec.channels),
              context.redisUrl,
            ]);
            return JSON.parse(stdout) as Sample;
          },
          close: async () => {},
        }),
      ),
  };
}

/**
 * One run, in this process: the heap after full collections, once connected,
 * then once `count` channels are subscribed.
 */
async function measure(contender: Contender, count: number, redisUrl: string): Promise<Sample> {
  const names = new ChannelNames();
  // Flat strings (a JSON round trip): a name built by concatenation is
  // flattened when first hashed, which would count against the contender.
  const channels: string[] = JSON.parse(
    JSON.stringify(Array.from({ length: count }, () => names.project(randomUUID()))),
  );
  if (contender.openHolder === undefined) {
    throw new Error(`${contender.name} has no subscription-scale setup`);
  }
  const holder = await contender.openHolder(redisUrl);
  try {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const start = performance.now();
    await holder.subscribeAll(channels);
    const subscribeMs = performance.now() - start;
    collectGarbage();
    return { heapPerSub: (process.memoryUsage().heapUsed - before) / count, subscribeMs };
  } finally {
    await holder.close();
  }
}

if (process.argv[1] === CHILD.pathname) {
  const [name, count, redisUrl] = process.argv.slice(2);
  const contender = Object.values(CONTENDERS).find((c: Contender) => c.name === name);
  if (contender === undefined || count === undefined || redisUrl === undefined) {
    throw new Error(`usage: scale.ts <contender> <channels> <redis url>, got ${process.argv}`);
  }
  if (globalThis.gc === undefined) throw new Error("needs node --expose-gc");
  process.stdout.write(JSON.stringify(await measure(contender, Number(count), redisUrl)));
}
