import { randomUUID } from "node:crypto";
import type { Latency } from "../drivers.js";
import {
  type Context,
  type Lineup,
  lineupOf,
  openSelected,
  type Runner,
  type Scenario,
} from "../harness.js";
import type { LiveContender } from "../live/contenders.js";
import type { BurstResult } from "../live/loadgen-main.js";
import { type ServerProcess, startLoadGenerator, startServer } from "../live/processes.js";
import type { Child } from "../live/rpc.js";

/** What a live fan-out scenario declares. */
export interface FanoutSpec extends Lineup {
  readonly id: string;
  readonly title: string;
  readonly contenders: readonly LiveContender[];
  /** Open streams (clients), spread evenly over `projects` projects. */
  readonly clients: number;
  readonly projects: number;
  /** Events of the burst, published as fast as the publisher can (1,000 in flight). */
  readonly burstEvents: number;
  /** The fixed rate of the latency phase, in events per second, and its events. */
  readonly rate: number;
  readonly pacedEvents: number;
}

/** Size of each event on the wire. */
const BYTES = 300;

/**
 * Scenarios 9 and 10: each contender's server runs in a process of its own,
 * its clients in a load generator process of their own (which also publishes,
 * so latency is measured on one clock). Every contender is set up with all its
 * clients open before the first round; each round runs a paced phase
 * (latency at a fixed rate), then a burst (deliveries per second), and reads
 * the server's CPU time over the burst.
 */
export function fanoutScenario(spec: FanoutSpec): Scenario {
  const perProject = spec.clients / spec.projects;
  return {
    id: spec.id,
    title: spec.title,
    description: `${spec.clients.toLocaleString("en-US")} clients following ${spec.projects === 1 ? "one project" : `${spec.projects.toLocaleString("en-US")} projects (${perProject} each)`}, events of about ${BYTES} B published to Redis by a backend (the bus; Socket.IO's redis-emitter; plain node-redis for the raw baseline). Latency: ${spec.pacedEvents.toLocaleString("en-US")} events at ${spec.rate.toLocaleString("en-US")}/s, publish call to receipt. Throughput: ${spec.burstEvents.toLocaleString("en-US")} events at once${spec.projects === 1 ? "" : " to random projects"}, deliveries/s to the last receipt, and the CPU time per delivery of the server and of the load generator over the burst.`,
    metrics: [
      { key: "deliveriesPerSec", unit: "deliveries/s", better: "higher" },
      { key: "p50", unit: "ms p50", better: "lower" },
      { key: "p99", unit: "ms p99", better: "lower" },
      { key: "serverCpu", unit: "server CPU us/delivery", better: "lower" },
      { key: "loadgenCpu", unit: "client CPU us/delivery", better: "lower" },
    ],
    ...lineupOf(spec),
    open: (context) =>
      openSelected(spec.contenders, context, (contender) => openFanout(contender, spec, context), {
        together: true,
      }),
  };
}

/**
 * Starts a load generator whose clients follow `server`, one client per
 * entry of `clients` (a project id), with events built for the runs to come.
 */
function loadGenerator(
  contender: LiveContender,
  server: ServerProcess,
  context: Context,
  clients: readonly string[],
  events: { readonly burstEvents: number; readonly pacedEvents: number },
): Promise<Child> {
  return startLoadGenerator({
    client: contender.client,
    publisher: contender.publisher,
    serverUrl: server.url,
    redisUrl: context.redisUrl,
    clients,
    bytes: BYTES,
    ...events,
  });
}

/** Starts one contender's server and load generator, with every client open. */
async function openFanout(
  contender: LiveContender,
  spec: FanoutSpec,
  context: Context,
): Promise<Runner> {
  const projects = Array.from({ length: spec.projects }, () => randomUUID());
  const server = await startServer(contender.server, context.redisUrl);
  const start = performance.now();
  const clients = Array.from(
    { length: spec.clients },
    (_, i) => projects[i % spec.projects] as string,
  );
  const events = { burstEvents: spec.burstEvents, pacedEvents: spec.pacedEvents };
  const loadgen = await loadGenerator(contender, server, context, clients, events).catch(
    async (error: unknown) => {
      await server.stop();
      throw error;
    },
  );
  context.progress(
    `${spec.id} ${contender.name}: ${spec.clients} clients open in ${Math.round(performance.now() - start)} ms`,
  );
  return {
    name: contender.name,
    async run() {
      const latency = await loadgen.request<Latency>("paced", { rate: spec.rate });
      const before = await server.usage(false);
      const burst = await loadgen.request<BurstResult>("burst");
      const after = await server.usage(false);
      return {
        ...latency,
        deliveriesPerSec: burst.deliveriesPerSec,
        serverCpu: (after.cpuMicros - before.cpuMicros) / burst.deliveries,
        loadgenCpu: burst.loadgenMicros / burst.deliveries,
      };
    },
    async close() {
      await loadgen.stop();
      await server.stop();
    },
  };
}

/** What the idle-connections scenario declares. */
export interface IdleSpec extends Lineup {
  readonly contenders: readonly LiveContender[];
  readonly clients: number;
}

/**
 * Scenario 9c: memory per open, idle connection. Each run starts a fresh
 * server process, reads its memory after full collections, opens the clients
 * (one project), reads it again, and stops everything: a server that ran
 * traffic before, or closed streams before, would count that too.
 */
export function idleScenario(spec: IdleSpec): Scenario {
  return {
    id: "sse-idle-memory",
    title: `9c. Memory per open idle connection (${spec.clients.toLocaleString("en-US")} clients)`,
    description: `A fresh server process per run; its RSS and V8 heap after full collections, before and after ${spec.clients.toLocaleString("en-US")} clients of one project connected, divided by the clients. Kernel socket buffers are not in RSS.`,
    metrics: [
      { key: "rssPerConn", unit: "B RSS/conn", better: "lower" },
      { key: "heapPerConn", unit: "B heap/conn", better: "lower" },
    ],
    ...lineupOf(spec),
    open: (context) =>
      openSelected(
        spec.contenders,
        context,
        async (contender): Promise<Runner> => ({
          name: contender.name,
          async run() {
            const server = await startServer(contender.server, context.redisUrl);
            try {
              const before = await server.usage(true);
              const project = randomUUID();
              const clients = Array.from({ length: spec.clients }, () => project);
              const loadgen = await loadGenerator(contender, server, context, clients, {
                burstEvents: 0,
                pacedEvents: 0,
              });
              try {
                const after = await server.usage(true);
                return {
                  rssPerConn: (after.rss - before.rss) / spec.clients,
                  heapPerConn: (after.heapUsed - before.heapUsed) / spec.clients,
                };
              } finally {
                await loadgen.stop();
              }
            } finally {
              await server.stop();
            }
          },
          close: async () => {},
        }),
      ),
  };
}
