/**
 * The load generator, in a process of its own (`loadgen-main.ts`, driven over
 * IPC, see `rpc.ts`): it opens the clients of one contender's server,
 * publishes to Redis as a backend service would (the bus for the gateway,
 * plain node-redis for the raw baseline, `@socket.io/redis-emitter` for
 * Socket.IO), and times the deliveries its clients report, all on its own
 * clock. It also reports its own CPU time, so a run can tell whether it
 * measured the server or itself.
 */
import { createEventBus, type Event } from "@eventbus/core";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import type { Pipe } from "../contenders.js";
import { paced, pipelined, Receiver } from "../drivers.js";
import { eventPool } from "../fixtures.js";
import { type LiveClient, openSocketIo, openSse } from "./clients.js";
import { serveRequests } from "./rpc.js";

/** How a contender's clients connect and how its events are published. */
export type ClientKind = "sse" | "socketio";
export type PublisherKind = "bus" | "raw" | "socketio-emitter";

/** What `open` is told. */
export interface OpenArgs {
  readonly client: ClientKind;
  readonly publisher: PublisherKind;
  readonly serverUrl: string;
  readonly redisUrl: string;
  /** The project each client follows, one entry per client; each project the same number of times. */
  readonly clients: readonly string[];
  /** Event sizes and counts of the runs to come, built before any is timed. */
  readonly bytes: number;
  readonly burstEvents: number;
  readonly pacedEvents: number;
}

/** A burst's result: deliveries per second and in all, and this process's CPU time meanwhile. */
export interface BurstResult {
  readonly deliveriesPerSec: number;
  readonly deliveries: number;
  /** User plus system CPU time of the load generator over the burst, in microseconds. */
  readonly loadgenMicros: number;
}

/**
 * The load generator's own node-redis clients: no per-command timeout (node-redis
 * 6 gives each command 5 s by default; on the starved shared machine a PUBLISH
 * waited longer, and the emitter, which does not hand out its promise, left the
 * timeout unhandled). The load generator is not what is measured.
 */
function publisherClient(redisUrl: string) {
  return createClient({ url: redisUrl, commandOptions: { timeout: 0 } });
}

/** Clients opened at once while connecting. */
const OPENING_AT_ONCE = 200;

interface State {
  readonly pipe: Pipe;
  readonly receiver: Receiver;
  readonly liveClients: LiveClient[];
  readonly perProject: number;
  readonly burst: readonly Event[];
  readonly paced: readonly Event[];
}

let state: State | undefined;

/** Publishes each event to its project the way the contender's backend would. */
async function openPipe(kind: PublisherKind, redisUrl: string): Promise<Pipe> {
  switch (kind) {
    case "bus": {
      const bus = createEventBus(redisUrl);
      return {
        publish: (event) => bus.publish(bus.getProjectChannel(event.project_id), event),
        close: () => bus.close(),
      };
    }
    case "raw": {
      const redis = publisherClient(redisUrl);
      await redis.connect();
      return {
        publish: async (event) => {
          await redis.publish(`events:project:${event.project_id}`, JSON.stringify(event));
        },
        close: () => redis.close(),
      };
    }
    case "socketio-emitter": {
      const redis = publisherClient(redisUrl);
      await redis.connect();
      const emitter = new Emitter(redis);
      return {
        // The emitter publishes without handing out the command's promise.
        publish: async (event) => {
          emitter.to(event.project_id).emit("event", event);
        },
        close: () => redis.close(),
      };
    }
  }
}

function required(): State {
  if (state === undefined) throw new Error("open first");
  return state;
}

serveRequests({
  open: async (args: OpenArgs) => {
    const counts = new Map<string, number>();
    for (const project of args.clients) counts.set(project, (counts.get(project) ?? 0) + 1);
    const perProject = counts.values().next().value ?? 0;
    if ([...counts.values()].some((count) => count !== perProject)) {
      throw new Error("every project needs the same number of clients");
    }
    const projects = [...counts.keys()];
    const receiver = new Receiver();
    const pipe = await openPipe(args.publisher, args.redisUrl);
    const url = new URL(args.serverUrl);
    const liveClients: LiveClient[] = [];
    const reports = { sink: receiver.sink, lost: receiver.fail };
    state = {
      pipe,
      receiver,
      liveClients,
      perProject,
      burst: eventPool(args.burstEvents, args.bytes, projects),
      paced: eventPool(args.pacedEvents, args.bytes, projects),
    };
    for (let i = 0; i < args.clients.length; i += OPENING_AT_ONCE) {
      const batch = args.clients.slice(i, i + OPENING_AT_ONCE);
      liveClients.push(
        ...(await Promise.all(
          batch.map((project) =>
            args.client === "sse"
              ? openSse(url, `/v1/projects/${project}/events`, reports)
              : openSocketIo(url, project, reports),
          ),
        )),
      );
    }
    return { opened: liveClients.length };
  },
  burst: async (): Promise<BurstResult> => {
    const { pipe, receiver, burst, perProject } = required();
    const cpu = process.cpuUsage();
    const deliveriesPerSec = await pipelined(pipe, receiver, burst, burst.length, perProject);
    const { user, system } = process.cpuUsage(cpu);
    return {
      deliveriesPerSec,
      deliveries: burst.length * perProject,
      loadgenMicros: user + system,
    };
  },
  paced: async ({ rate }: { rate: number }) => {
    const { pipe, receiver, paced: events, perProject } = required();
    return paced(pipe, receiver, events, rate, perProject);
  },
  close: async () => {
    if (state !== undefined) {
      for (const client of state.liveClients) client.close();
      await state.pipe.close();
      state = undefined;
    }
    setImmediate(() => process.exit(0));
  },
});
