/**
 * Scenario 14: resuming after 1,000 missed events, and what a retained event
 * costs in Redis memory. (Scenario 13, publishing with history against plain
 * Pub/Sub, is a pipe scenario: see `index.ts`.)
 */
import { randomUUID } from "node:crypto";
import { createEventBus, type EventBus } from "@eventbus/core";
import { historyKeys } from "@eventbus/core/redis-history";
import { createClient } from "redis";
import { eventPool } from "../fixtures.js";
import type { Runner, Scenario } from "../harness.js";

const newRawClient = (url: string) => createClient({ url });
type RawClient = ReturnType<typeof newRawClient>;

/** The one contender: the bus on Redis with history on. */
const CONTENDER = "bus/redis+history";

/** How the resume scenario is sized. */
export interface ResumeSpec {
  /** Events missed, and replayed by each resume. */
  readonly missed: number;
  readonly warmups: number;
  readonly rounds: number;
}

/**
 * Each run publishes `missed` events of about 300 B to a fresh channel, then
 * times a subscription resuming from before the first of them until the last
 * is delivered; and reads the channel's keys' `MEMORY USAGE`.
 */
export function resumeScenario(spec: ResumeSpec): Scenario {
  const count = spec.missed.toLocaleString("en-US");
  return {
    id: "history-resume",
    title: `14. Resume after ${count} missed events, and memory per retained event`,
    description: `${count} events of about 300 B published with history while nobody listens; then subscribe({ since }) from before the first: ms until the last is delivered, and Redis MEMORY USAGE of the channel's Stream and id set per retained event.`,
    metrics: [
      { key: "resumeMs", unit: "ms to the last", better: "lower" },
      { key: "streamBytesPerEvent", unit: "B/event (Stream)", better: "lower" },
      { key: "idBytesPerEvent", unit: "B/event (ids)", better: "lower" },
    ],
    contenders: [CONTENDER],
    reference: CONTENDER,
    targets: [],
    warmups: spec.warmups,
    rounds: spec.rounds,
    open: async (context) => {
      if (!context.selected(CONTENDER)) return [];
      const history = { maxEntries: Math.max(1_000, spec.missed) };
      const publisher = createEventBus(context.redisUrl, { history });
      const subscriber = createEventBus(context.redisUrl, { history });
      const raw = newRawClient(context.redisUrl);
      await raw.connect();
      const runner: Runner = {
        name: CONTENDER,
        run: () => resumeOnce(publisher, subscriber, raw, spec.missed),
        close: async () => {
          raw.destroy();
          await Promise.all([publisher.close(), subscriber.close()]);
        },
      };
      return [runner];
    },
  };
}

async function resumeOnce(
  publisher: EventBus,
  subscriber: EventBus,
  raw: RawClient,
  missed: number,
) {
  const projectId = randomUUID();
  const channel = publisher.getProjectChannel(projectId);
  const since = (await publisher.history(channel)).current;
  await Promise.all(
    eventPool(missed, 300, projectId).map((event) => publisher.publish(channel, event)),
  );
  const started = performance.now();
  const sub = subscriber.subscribe([channel], { since, bufferSize: missed + 10 });
  let delivered = 0;
  for await (const _ of sub) {
    if (++delivered === missed) break;
  }
  const resumeMs = performance.now() - started;
  const keys = historyKeys(channel);
  const [stream, ids] = await Promise.all([
    raw.memoryUsage(keys.history),
    raw.memoryUsage(keys.ids),
  ]);
  return {
    resumeMs,
    streamBytesPerEvent: (stream ?? 0) / missed,
    idBytesPerEvent: (ids ?? 0) / Math.min(missed, 1_000),
  };
}
