import { randomUUID } from "node:crypto";
import type { Event } from "@eventbus/core";
import type { Contender, Pipe } from "../contenders.js";
import { Receiver } from "../drivers.js";
import { eventPool } from "../fixtures.js";
import {
  type Lineup,
  lineupOf,
  type Metric,
  openSelected,
  type Runner,
  type Sample,
  type Scenario,
} from "../harness.js";

/** What a publish-to-receive scenario declares; {@link pipeScenario} does the rest. */
export interface PipeScenarioSpec extends Lineup {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly metrics: readonly Metric[];
  readonly contenders: readonly Contender[];
  /** Consumers each contender subscribes to its channel. Default 1. */
  readonly subscribers?: number;
  /** Each contender's events: how many distinct ones, and their size on the wire. */
  readonly pool: { readonly size: number; readonly bytes: number };
  /** One measured run. */
  measure(pipe: Pipe, receiver: Receiver, pool: readonly Event[]): Promise<Sample>;
}

/**
 * A scenario in which each contender publishes to a channel of its own (a
 * project of its own, so contenders never see each other's events) and
 * receives from it, with events built before any run.
 */
export function pipeScenario(spec: PipeScenarioSpec): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    metrics: spec.metrics,
    ...lineupOf(spec),
    open: (context) =>
      openSelected(spec.contenders, context, async (contender): Promise<Runner> => {
        const projectId = randomUUID();
        const pool = eventPool(spec.pool.size, spec.pool.bytes, projectId);
        const receiver = new Receiver();
        const pipe = await contender.openPipe({
          redisUrl: context.redisUrl,
          projectId,
          subscribers: spec.subscribers ?? 1,
          sink: receiver.sink,
          fail: receiver.fail,
        });
        return {
          name: contender.name,
          run: () => spec.measure(pipe, receiver, pool),
          close: () => pipe.close(),
        };
      }),
  };
}

/** CPU time of the suite's process per event, lower is better. */
export const CPU_PER_EVENT: Metric = {
  key: "cpuPerEvent",
  unit: "CPU us/event",
  better: "lower",
};

/** Deliveries per second, higher is better. */
export const EVENTS_PER_SECOND: Metric = {
  key: "eventsPerSec",
  unit: "events/s",
  better: "higher",
};
