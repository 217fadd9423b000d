import { randomUUID } from "node:crypto";
import { CONTENDERS, type Contender } from "../contenders.js";
import { burst, paced, pipelined, sequential, withCpu } from "../drivers.js";
import type { Scenario, Target } from "../harness.js";
import { LIVE, type LiveContender } from "../live/contenders.js";
import { busOnCluster, onCluster, shardingScenario, spreadScenario } from "./cluster.js";
import { resumeScenario } from "./history.js";
import { httpPublishScenario, type PublishContender } from "./http-publish.js";
import { fanoutScenario, idleScenario } from "./live.js";
import { CPU_PER_EVENT, EVENTS_PER_SECOND, pipeScenario } from "./pipe-scenario.js";
import { scaleScenario } from "./scale.js";
import { validatorScenario } from "./validators.js";

/** How big each scenario runs: the full suite, or `--quick` to exercise every path briefly. */
interface Sizes {
  readonly rounds: number;
  readonly throughput: Readonly<Record<"100B" | "300B" | "1KB" | "16KB", number>>;
  readonly sequential: number;
  readonly latencySeconds: number;
  readonly fanoutEvents: number;
  readonly channels: number;
  readonly inMemory: number;
  readonly decodes: number;
  /** Live fan-out: clients per run and events per burst, at each size. */
  readonly fanout: readonly { readonly clients: number; readonly burstEvents: number }[];
  /** Seconds of each live latency phase, and its deliveries per second whatever the number of clients. */
  readonly pacedSeconds: number;
  readonly liveDeliveryRate: number;
  /** Warm-up runs of the live scenarios, whose processes take seconds each to start. */
  readonly liveWarmups: number;
  readonly projects: {
    readonly clients: number;
    readonly projects: number;
    readonly burstEvents: number;
  };
  readonly idleClients: number;
  readonly httpSeconds: number;
  readonly burst: number;
  /** Events published with history and without, and events a resume replays. */
  readonly history: number;
  readonly resumed: number;
  /** Events of the cluster scenarios, and channels spread over its shards. */
  readonly cluster: { readonly events: number; readonly channels: number };
}

const FULL: Sizes = {
  rounds: 5,
  throughput: { "100B": 100_000, "300B": 100_000, "1KB": 100_000, "16KB": 20_000 },
  sequential: 5_000,
  latencySeconds: 4,
  fanoutEvents: 2_000,
  channels: 100_000,
  inMemory: 200_000,
  decodes: 200_000,
  fanout: [
    { clients: 1_000, burstEvents: 300 },
    { clients: 5_000, burstEvents: 60 },
  ],
  pacedSeconds: 3,
  liveDeliveryRate: 20_000,
  liveWarmups: 1,
  projects: { clients: 10_000, projects: 1_000, burstEvents: 30_000 },
  idleClients: 5_000,
  httpSeconds: 5,
  burst: 30_000,
  history: 50_000,
  resumed: 1_000,
  cluster: { events: 50_000, channels: 10_000 },
};

const QUICK: Sizes = {
  rounds: 1,
  throughput: { "100B": 1_000, "300B": 1_000, "1KB": 1_000, "16KB": 200 },
  sequential: 200,
  latencySeconds: 0.4,
  fanoutEvents: 20,
  channels: 2_000,
  inMemory: 2_000,
  decodes: 2_000,
  fanout: [
    { clients: 20, burstEvents: 20 },
    { clients: 40, burstEvents: 10 },
  ],
  pacedSeconds: 0.2,
  liveDeliveryRate: 2_000,
  liveWarmups: 0,
  projects: { clients: 40, projects: 10, burstEvents: 40 },
  idleClients: 20,
  httpSeconds: 1,
  burst: 300,
  history: 500,
  resumed: 100,
  cluster: { events: 300, channels: 200 },
};

const BYTES = { "100B": 100, "300B": 300, "1KB": 1_024, "16KB": 16_384 } as const;
const BYTES_LABEL = { "100B": "100 B", "300B": "300 B", "1KB": "1 KB", "16KB": "16 KB" } as const;

/** Distinct events per contender; longer runs cycle through them. */
const POOL_SIZE = 10_000;
const LATENCY_RATE = 5_000;
const FANOUT_SUBSCRIBERS = 1_000;

const {
  busRedis,
  nodeRedisJson,
  nodeRedisJsonZod,
  ioredisJson,
  graphqlRedisSubscriptions,
  busMemory,
  emitterJsonZod,
  busRedisHistory,
} = CONTENDERS;

/** Every contender that talks to Redis, the bus first. */
const ON_REDIS: readonly Contender[] = [
  busRedis,
  nodeRedisJson,
  nodeRedisJsonZod,
  ioredisJson,
  graphqlRedisSubscriptions,
];

const { gateway, socketIo, rawSse } = LIVE;
const LIVE_CONTENDERS: readonly LiveContender[] = [gateway, socketIo, rawSse];

/** The HTTP publish scenario's servers: the gateway (at `warn`, and at `info` to show logging's cost) and the minimal route. */
const PUBLISHERS = {
  gateway: { name: "gateway", server: "gateway" },
  gatewayInfo: { name: "gateway (info logs)", server: "gateway-info-logs" },
  minimal: { name: "fastify+zod", server: "fastify-publish" },
} as const satisfies Record<string, PublishContender>;

/** A target of the gateway: its figure over `versus`'s, round by round. */
function gatewayRatio(
  metric: string,
  versus: { readonly name: string },
  bound: { readonly atLeast: number } | { readonly atMost: number },
): Target {
  return { kind: "ratio", metric, contender: gateway.name, versus: versus.name, ...bound };
}

/** A target of the bus on Redis: its figure over `versus`'s, round by round. */
function ratio(
  metric: string,
  versus: Contender,
  bound: { readonly atLeast: number } | { readonly atMost: number },
): Target {
  return { kind: "ratio", metric, contender: busRedis.name, versus: versus.name, ...bound };
}

/** Every scenario of the suite, in report order. */
export function scenarios({ quick }: { quick: boolean }): Scenario[] {
  const sizes = quick ? QUICK : FULL;
  const runs = { warmups: 1, rounds: sizes.rounds };
  const throughput = (size: keyof typeof BYTES, title: string, targets: readonly Target[]) =>
    pipeScenario({
      id: `throughput-${size}`,
      title,
      description: `${sizes.throughput[size].toLocaleString("en-US")} events of about ${BYTES_LABEL[size]} published without awaiting each (1,000 in flight) to one channel with one subscriber; events/s from the first publish to the last delivery, and the CPU time of the publishing and subscribing process per event.`,
      metrics: [EVENTS_PER_SECOND, CPU_PER_EVENT],
      contenders: ON_REDIS,
      reference: nodeRedisJson,
      targets,
      ...runs,
      pool: { size: Math.min(POOL_SIZE, sizes.throughput[size]), bytes: BYTES[size] },
      measure: (pipe, receiver, pool) =>
        withCpu(sizes.throughput[size], () =>
          pipelined(pipe, receiver, pool, sizes.throughput[size]),
        ),
    });
  const latencyEvents = Math.round(LATENCY_RATE * sizes.latencySeconds);

  return [
    throughput("300B", "1. Pipelined throughput, about 300 B", [
      ratio("eventsPerSec", nodeRedisJsonZod, { atLeast: 1.0 }),
      ratio("eventsPerSec", nodeRedisJson, { atLeast: 0.9 }),
      ratio("eventsPerSec", graphqlRedisSubscriptions, { atLeast: 1.5 }),
    ]),
    pipeScenario({
      id: "sequential",
      title: "2. Sequential publishing (await each publish)",
      description: `${sizes.sequential.toLocaleString("en-US")} events of about 300 B, each publish awaited before the next; events/s to the last delivery.`,
      metrics: [EVENTS_PER_SECOND],
      contenders: ON_REDIS,
      reference: nodeRedisJson,
      targets: [ratio("eventsPerSec", nodeRedisJson, { atLeast: 0.9 })],
      ...runs,
      // A publish-reply ping-pong flips between two speeds on a shared 2-core
      // machine (other processes' load); twice the rounds steady the median.
      rounds: sizes.rounds * 2,
      pool: { size: Math.min(POOL_SIZE, sizes.sequential), bytes: 300 },
      measure: async (pipe, receiver, pool) => ({
        eventsPerSec: await sequential(pipe, receiver, pool, sizes.sequential),
      }),
    }),
    pipeScenario({
      id: "latency",
      title: `3. Latency at a fixed ${LATENCY_RATE.toLocaleString("en-US")} events/s`,
      description: `${latencyEvents.toLocaleString("en-US")} events of about 300 B paced at ${LATENCY_RATE.toLocaleString("en-US")}/s for ${sizes.latencySeconds} s; publish call to delivery, in ms.`,
      metrics: [
        { key: "p50", unit: "ms p50", better: "lower" },
        { key: "p99", unit: "ms p99", better: "lower" },
      ],
      contenders: [busRedis, nodeRedisJson, nodeRedisJsonZod, graphqlRedisSubscriptions],
      reference: nodeRedisJson,
      targets: [
        {
          kind: "offset",
          metric: "p50",
          contender: busRedis.name,
          versus: nodeRedisJson.name,
          atMost: 0.1,
        },
        ratio("p99", nodeRedisJson, { atMost: 1.5 }),
      ],
      ...runs,
      pool: { size: latencyEvents, bytes: 300 },
      measure: (pipe, receiver, pool) => paced(pipe, receiver, pool, LATENCY_RATE),
    }),
    pipeScenario({
      id: "fanout",
      title: `4. Local fan-out, ${FANOUT_SUBSCRIBERS.toLocaleString("en-US")} subscribers on one channel`,
      description: `${sizes.fanoutEvents.toLocaleString("en-US")} events of about 300 B pipelined to one channel with ${FANOUT_SUBSCRIBERS.toLocaleString("en-US")} subscribers in this process; deliveries/s. The raw clients decode once per listener.`,
      metrics: [EVENTS_PER_SECOND],
      contenders: [busRedis, busMemory, nodeRedisJson, graphqlRedisSubscriptions],
      reference: nodeRedisJson,
      targets: [busRedis, busMemory].map(
        (bus): Target => ({
          kind: "absolute",
          metric: "eventsPerSec",
          contender: bus.name,
          atLeast: 5e6,
        }),
      ),
      ...runs,
      subscribers: FANOUT_SUBSCRIBERS,
      pool: { size: sizes.fanoutEvents, bytes: 300 },
      measure: async (pipe, receiver, pool) => ({
        eventsPerSec: await pipelined(pipe, receiver, pool, pool.length, FANOUT_SUBSCRIBERS),
      }),
    }),
    scaleScenario({
      contenders: [busRedis, nodeRedisJson, busMemory],
      reference: nodeRedisJson,
      targets: [ratio("heapPerSub", nodeRedisJson, { atMost: 1.5 })],
      channels: sizes.channels,
      ...runs,
      rounds: Math.min(3, sizes.rounds),
    }),
    pipeScenario({
      id: "in-memory",
      title: "6. In-memory transport, one subscriber",
      description: `${sizes.inMemory.toLocaleString("en-US")} events of about 300 B pipelined in one process, validated both ways; the yardstick is an EventEmitter carrying JSON with the same zod checks.`,
      metrics: [EVENTS_PER_SECOND],
      contenders: [busMemory, emitterJsonZod],
      reference: emitterJsonZod,
      targets: [],
      ...runs,
      pool: { size: Math.min(POOL_SIZE, sizes.inMemory), bytes: 300 },
      measure: async (pipe, receiver, pool) => ({
        eventsPerSec: await pipelined(pipe, receiver, pool, sizes.inMemory),
      }),
    }),
    throughput("100B", "7a. Pipelined throughput, about 100 B", []),
    throughput("1KB", "7b. Pipelined throughput, about 1 KB", []),
    throughput("16KB", "7c. Pipelined throughput, about 16 KB", [
      ratio("eventsPerSec", nodeRedisJson, { atLeast: 1.0 }),
      ratio("eventsPerSec", ioredisJson, { atLeast: 1.0 }),
    ]),
    validatorScenario({ messages: sizes.decodes, rounds: sizes.rounds }),
    ...sizes.fanout.map(({ clients, burstEvents }, i) =>
      fanoutScenario({
        id: `sse-fanout-${i === 0 ? "a" : "b"}`,
        title: `9${i === 0 ? "a" : "b"}. Live fan-out, ${clients.toLocaleString("en-US")} clients of one project`,
        contenders: LIVE_CONTENDERS,
        reference: socketIo,
        targets: [
          gatewayRatio("deliveriesPerSec", socketIo, { atLeast: 1.0 }),
          gatewayRatio("deliveriesPerSec", rawSse, { atLeast: 0.9 }),
          gatewayRatio("p99", socketIo, { atMost: 1.0 }),
        ],
        warmups: sizes.liveWarmups,
        rounds: Math.min(3, sizes.rounds),
        clients,
        projects: 1,
        burstEvents,
        rate: sizes.liveDeliveryRate / clients,
        pacedEvents: Math.ceil((sizes.liveDeliveryRate / clients) * sizes.pacedSeconds),
      }),
    ),
    idleScenario({
      contenders: LIVE_CONTENDERS,
      reference: socketIo,
      targets: [
        gatewayRatio("rssPerConn", socketIo, { atMost: 0.5 }),
        { kind: "absolute", metric: "rssPerConn", contender: gateway.name, atMost: 10_240 },
      ],
      warmups: sizes.liveWarmups,
      rounds: Math.min(3, sizes.rounds),
      clients: sizes.idleClients,
    }),
    fanoutScenario({
      id: "sse-projects",
      title: `10. Many projects: ${sizes.projects.clients.toLocaleString("en-US")} clients over ${sizes.projects.projects.toLocaleString("en-US")} projects`,
      contenders: LIVE_CONTENDERS,
      reference: socketIo,
      targets: [
        gatewayRatio("deliveriesPerSec", socketIo, { atLeast: 1.0 }),
        gatewayRatio("deliveriesPerSec", rawSse, { atLeast: 0.9 }),
        gatewayRatio("p99", socketIo, { atMost: 1.0 }),
      ],
      warmups: sizes.liveWarmups,
      rounds: Math.min(3, sizes.rounds),
      ...sizes.projects,
      rate: (sizes.liveDeliveryRate / sizes.projects.clients) * sizes.projects.projects,
      pacedEvents: Math.ceil(
        (sizes.liveDeliveryRate / sizes.projects.clients) *
          sizes.projects.projects *
          sizes.pacedSeconds,
      ),
    }),
    httpPublishScenario({
      contenders: [PUBLISHERS.gateway, PUBLISHERS.gatewayInfo, PUBLISHERS.minimal],
      reference: PUBLISHERS.minimal,
      targets: [gatewayRatio("requestsPerSec", PUBLISHERS.minimal, { atLeast: 1.0 })],
      warmups: sizes.liveWarmups,
      rounds: sizes.rounds,
      seconds: sizes.httpSeconds,
      connections: 32,
    }),
    pipeScenario({
      id: "burst",
      title: `12. Burst: ${sizes.burst.toLocaleString("en-US")} publishes at once`,
      description: `${sizes.burst.toLocaleString("en-US")} events of about 300 B published in one synchronous loop and awaited together (a batch import), one channel, one subscriber; events/s from the first publish to the last delivery, and the CPU time of the publishing and subscribing process per event.`,
      metrics: [EVENTS_PER_SECOND, CPU_PER_EVENT],
      contenders: [busRedis, nodeRedisJson, nodeRedisJsonZod],
      reference: nodeRedisJson,
      targets: [
        ratio("eventsPerSec", nodeRedisJsonZod, { atLeast: 1.3 }),
        ratio("eventsPerSec", nodeRedisJson, { atLeast: 0.9 }),
      ],
      ...runs,
      pool: { size: Math.min(POOL_SIZE, sizes.burst), bytes: 300 },
      measure: (pipe, receiver, pool) =>
        withCpu(sizes.burst, () => burst(pipe, receiver, pool, sizes.burst)),
    }),
    pipeScenario({
      id: "history-publish",
      title: "13. Publishing with history against plain Pub/Sub",
      description: `${sizes.history.toLocaleString("en-US")} events of about 300 B published without awaiting each (1,000 in flight) to one channel with one subscriber, by the bus without history (PUBLISH) and with it (the history script: offset, Stream with exact MAXLEN 1,000, ttls, idempotency, PUBLISH); events/s to the last delivery and CPU time per event.`,
      metrics: [EVENTS_PER_SECOND, CPU_PER_EVENT],
      contenders: [busRedis, busRedisHistory],
      reference: busRedis,
      targets: [
        {
          kind: "ratio",
          metric: "eventsPerSec",
          contender: busRedisHistory.name,
          versus: busRedis.name,
          atLeast: 0.5,
        },
      ],
      ...runs,
      pool: { size: Math.min(POOL_SIZE, sizes.history), bytes: 300 },
      measure: (pipe, receiver, pool) => {
        // New ids each run (before timing): an id published again within the
        // idempotency window would be appended and delivered once, not again.
        const fresh = pool.map((event) => ({ ...event, id: randomUUID() }));
        return withCpu(sizes.history, () => pipelined(pipe, receiver, fresh, sizes.history));
      },
    }),
    resumeScenario({ missed: sizes.resumed, ...runs }),
    clusterThroughput(sizes.cluster.events, runs),
    shardingScenario({ events: sizes.cluster.events, ...runs }),
    spreadScenario({ channels: sizes.cluster.channels, ...runs }, busRedis),
  ];
}

/** Scenario 15: one channel's throughput on the cluster against one Redis server. */
function clusterThroughput(
  events: number,
  runs: { readonly warmups: number; readonly rounds: number },
): Scenario {
  const spec = (contenders: readonly Contender[]) =>
    pipeScenario({
      id: "cluster-throughput",
      title: "15. One channel on a three-master cluster against one Redis server",
      description: `${events.toLocaleString("en-US")} events of about 300 B published without awaiting each (1,000 in flight) to one channel with one subscriber, by the bus on one Redis server and on a cluster (SPUBLISH to the channel's shard); events/s to the last delivery and CPU time per event.`,
      metrics: [EVENTS_PER_SECOND, CPU_PER_EVENT],
      contenders,
      reference: busRedis,
      targets: [
        {
          kind: "ratio",
          metric: "eventsPerSec",
          contender: "bus/cluster",
          versus: busRedis.name,
          atLeast: 0.8,
        },
      ],
      ...runs,
      pool: { size: Math.min(POOL_SIZE, events), bytes: 300 },
      measure: (pipe, receiver, pool) =>
        withCpu(events, () => pipelined(pipe, receiver, pool, events)),
    });
  const { open: _open, ...description } = spec([
    busRedis,
    { name: "bus/cluster", openPipe: busRedis.openPipe },
  ]);
  return onCluster(description, (cluster) => spec([busRedis, busOnCluster(cluster, busRedis)]));
}
