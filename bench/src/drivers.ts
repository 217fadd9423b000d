import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import type { Event } from "@eventbus/core";
import type { Pipe, Sink } from "./contenders.js";
import { quantileOfSorted } from "./stats.js";

/** Publishes in flight at once in pipelined runs; each window's acknowledgements are awaited. */
const WINDOW = 1_000;

/** How long a run waits for deliveries once everything is published, before it fails. */
const DELIVERY_TIMEOUT_MS = 180_000;

/**
 * Counts deliveries for the run in progress: a pipe's sink is bound to one
 * receiver for the whole scenario, and each run arms it anew with
 * {@link Receiver.expect}. Optionally calls back on each delivery.
 */
export class Receiver {
  #remaining = 0;
  #onDelivery: Sink | undefined;
  #done: (() => void) | undefined;
  #fail: ((error: unknown) => void) | undefined;
  #failure: { readonly error: unknown } | undefined;

  /** The sink to hand to a contender's pipe. */
  readonly sink: Sink = (seq) => {
    this.#onDelivery?.(seq);
    if (--this.#remaining === 0) this.#done?.();
  };

  /** Fails the run in progress, and every later one: a subscriber stopped with `error`. */
  readonly fail = (error: unknown): void => {
    this.#failure ??= { error };
    this.#fail?.(error);
  };

  /**
   * Arms the receiver for `deliveries` deliveries (calling `onDelivery` with
   * each one's seq, if given). `done` resolves when they have all arrived;
   * once `published()` is called it rejects if they have not within
   * {@link DELIVERY_TIMEOUT_MS}.
   */
  expect(deliveries: number, onDelivery?: Sink): { done: Promise<void>; published(): void } {
    this.#remaining = deliveries;
    this.#onDelivery = onDelivery;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done = new Promise<void>((resolve, reject) => {
      this.#fail = reject;
      if (this.#failure !== undefined) reject(this.#failure.error);
      this.#done = () => {
        settled = true;
        clearTimeout(timer);
        resolve();
      };
    });
    const published = (): void => {
      if (settled) return;
      timer = setTimeout(() => {
        this.#fail?.(new Error(`${this.#remaining} of ${deliveries} deliveries never arrived`));
      }, DELIVERY_TIMEOUT_MS);
    };
    return { done, published };
  }
}

/**
 * Publishes `count` events, cycling through `pool`, without waiting for each
 * (at most {@link WINDOW} in flight), and waits for `subscribers` deliveries of
 * each. Returns deliveries per second, from the first publish to the last delivery.
 */
export function pipelined(
  pipe: Pipe,
  receiver: Receiver,
  pool: readonly Event[],
  count: number,
  subscribers = 1,
): Promise<number> {
  return deliveriesPerSecond(receiver, count * subscribers, async () => {
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      window.push(pipe.publish(pool[i % pool.length] as Event));
      if (window.length === WINDOW) {
        await Promise.all(window);
        window = [];
        // As a producer doing I/O would, let consumers in this process run; an
        // in-process transport otherwise outruns its consumers' microtasks.
        await setImmediate();
      }
    }
    await Promise.all(window);
  });
}

/**
 * Arms `receiver` for `deliveries`, runs `publish`, and waits for every
 * delivery; returns deliveries per second, from the start of `publish` to the
 * last delivery.
 */
async function deliveriesPerSecond(
  receiver: Receiver,
  deliveries: number,
  publish: () => Promise<void>,
): Promise<number> {
  const run = receiver.expect(deliveries);
  const start = performance.now();
  await publish();
  run.published();
  await run.done;
  return deliveries / ((performance.now() - start) / 1000);
}

/** Events per second, and this process's CPU time per event (publisher and subscriber: a figure a shared machine's load barely moves). */
export type Throughput = {
  readonly eventsPerSec: number;
  /** User plus system CPU time of this process over the run, per event, in microseconds. */
  readonly cpuPerEvent: number;
};

/** Runs `run` (which returns events per second) and reads this process's CPU time over it. */
export async function withCpu(events: number, run: () => Promise<number>): Promise<Throughput> {
  const start = process.cpuUsage();
  const eventsPerSec = await run();
  const { user, system } = process.cpuUsage(start);
  return { eventsPerSec, cpuPerEvent: (user + system) / events };
}

/**
 * Publishes `count` events from `pool` in one synchronous loop and awaits all
 * the acknowledgements together, as a batch import does; returns events per
 * second, from the first publish to the last delivery.
 */
export function burst(
  pipe: Pipe,
  receiver: Receiver,
  pool: readonly Event[],
  count: number,
): Promise<number> {
  return deliveriesPerSecond(receiver, count, async () => {
    const acks: Promise<unknown>[] = new Array(count);
    for (let i = 0; i < count; i++) acks[i] = pipe.publish(pool[i % pool.length] as Event);
    await Promise.all(acks);
  });
}

/**
 * Publishes `count` events from `pool` one at a time, awaiting each; returns
 * events per second, from the first publish to the last delivery.
 */
export function sequential(
  pipe: Pipe,
  receiver: Receiver,
  pool: readonly Event[],
  count: number,
): Promise<number> {
  return deliveriesPerSecond(receiver, count, async () => {
    for (let i = 0; i < count; i++) await pipe.publish(pool[i % pool.length] as Event);
  });
}

/** Publish-to-delivery latency percentiles of a paced run, in milliseconds. */
export type Latency = { readonly p50: number; readonly p99: number };

/**
 * Publishes every event of `events` (whose seqs are their indices) at a fixed
 * `rate` (events per second): each millisecond timer tick publishes the events
 * due by then. Latency is from the `publish` call to each delivery (one per
 * subscriber), both on this process's clock.
 */
export async function paced(
  pipe: Pipe,
  receiver: Receiver,
  events: readonly Event[],
  rate: number,
  subscribers = 1,
): Promise<Latency> {
  const sent = new Float64Array(events.length);
  const latencies = new Float64Array(events.length * subscribers);
  let arrived = 0;
  const run = receiver.expect(latencies.length, (seq) => {
    latencies[arrived++] = performance.now() - (sent[seq] as number);
  });
  const failures: unknown[] = [];
  const start = performance.now();
  let next = 0;
  while (next < events.length) {
    const due = Math.min(events.length, Math.floor(((performance.now() - start) * rate) / 1000));
    for (; next < due; next++) {
      sent[next] = performance.now();
      pipe.publish(events[next] as Event).catch((error: unknown) => failures.push(error));
    }
    await sleep(1);
  }
  run.published();
  await run.done;
  if (failures.length > 0) throw failures[0];
  latencies.sort();
  return { p50: quantileOfSorted(latencies, 0.5), p99: quantileOfSorted(latencies, 0.99) };
}
