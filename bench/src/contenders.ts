import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  ChannelNames,
  type CreateEventBusOptions,
  createEventBus,
  type Event,
  type EventBus,
  EventSchema,
  REDIS_DEFAULTS,
  REDIS_SOCKET_BUFFER_BYTES,
  WireEventSchema,
} from "@eventbus/core";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { Redis } from "ioredis";
import { createClient, type RedisClientOptions } from "redis";
import { seqOf } from "./fixtures.js";

/** Called once per delivery, with the `payload.seq` of the event received. */
export type Sink = (seq: number) => void;

/** What a scenario asks of a contender's publish-to-receive path. */
export interface PipeOptions {
  /** The Redis server of this run; ignored by in-process contenders. */
  readonly redisUrl: string;
  /** The project whose channel the events travel on. */
  readonly projectId: string;
  /** How many independent subscribers receive each event (fan-out). */
  readonly subscribers: number;
  /** Where every subscriber reports each event it received. */
  readonly sink: Sink;
  /** Where a subscriber reports that it stopped with an error (the run then fails). */
  readonly fail: (error: unknown) => void;
}

/** A contender set up to publish to one channel and receive from it. */
export interface Pipe {
  /**
   * Publishes one event; resolves once the server (or in-process broker) has
   * taken it. What it resolves to (the bus's position, with history) is ignored.
   */
  publish(event: Event): Promise<unknown>;
  /** Ends subscribers and closes connections. */
  close(): Promise<void>;
}

/** A contender set up to hold many subscriptions, each to its own channel. */
export interface SubscriptionHolder {
  /** Subscribes one subscriber per channel; resolves once the server has confirmed all. */
  subscribeAll(channels: readonly string[]): Promise<void>;
  /** Unsubscribes everything and closes connections. */
  close(): Promise<void>;
}

/** One way of doing pub/sub that the suite measures. */
export interface Contender {
  /** The name in the report, such as `node-redis+json`. */
  readonly name: string;
  /** Connects and subscribes `options.subscribers` consumers to the project's channel. */
  openPipe(options: PipeOptions): Promise<Pipe>;
  /** Connects, for the subscription-scale scenario; absent where that says nothing. */
  openHolder?(redisUrl: string): Promise<SubscriptionHolder>;
}

const channels = new ChannelNames();

/**
 * The node-redis settings of the bus's Redis transport (RESP3, no per-command
 * timer, a health-check PING, no offline queue, a 1 MiB socket write buffer),
 * given to the raw node-redis contenders too, so that a comparison measures
 * the bus and not the settings.
 */
function nodeRedisOptions(url: string): RedisClientOptions {
  // `highWaterMark` reaches Node's socket, though node-redis's types do not list it.
  const socket = {
    connectTimeout: REDIS_DEFAULTS.connectTimeoutMs,
    socketTimeout: REDIS_DEFAULTS.healthCheckIntervalMs * 2,
    reconnectStrategy: false,
    highWaterMark: REDIS_SOCKET_BUFFER_BYTES,
  } as const;
  return {
    url,
    RESP: 3,
    commandOptions: { timeout: 0 },
    pingInterval: REDIS_DEFAULTS.healthCheckIntervalMs,
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    socket,
  };
}

type Decode = (message: string) => unknown;

const decodeJson: Decode = (message) => JSON.parse(message);
const decodeJsonZod: Decode = (message) => WireEventSchema.parse(JSON.parse(message));
const encodeJson = (event: Event): string => JSON.stringify(event);
const encodeJsonZod = (event: Event): string => JSON.stringify(EventSchema.parse(event));

/**
 * Raw node-redis: a publisher and a subscriber connection; each subscriber is
 * its own listener and decodes what it gets, as hand-written code would.
 * `validate` adds the bus's checks with the same zod schemas: `EventSchema`
 * before publishing, `WireEventSchema` on receipt.
 */
function nodeRedis(name: string, { validate }: { validate: boolean }): Contender {
  const encode = validate ? encodeJsonZod : encodeJson;
  const decode = validate ? decodeJsonZod : decodeJson;
  return {
    name,
    async openPipe({ redisUrl, projectId, subscribers, sink, fail }) {
      const publisher = createClient(nodeRedisOptions(redisUrl));
      const subscriber = publisher.duplicate();
      // A lost connection fails the run (rather than the process, as an unheard 'error' would).
      publisher.on("error", fail);
      subscriber.on("error", fail);
      await Promise.all([publisher.connect(), subscriber.connect()]);
      const channel = channels.project(projectId);
      await Promise.all(
        Array.from({ length: subscribers }, () =>
          subscriber.subscribe(channel, (message: string) => sink(seqOf(decode(message)))),
        ),
      );
      return {
        publish: async (event) => {
          await publisher.publish(channel, encode(event));
        },
        close: async () => {
          await Promise.all([publisher.close(), subscriber.close()]);
        },
      };
    },
    async openHolder(redisUrl) {
      const subscriber = createClient(nodeRedisOptions(redisUrl));
      await subscriber.connect();
      return {
        subscribeAll: async (names) => {
          await Promise.all(
            names.map((channel) => subscriber.subscribe(channel, unexpectedDelivery)),
          );
        },
        close: async () => {
          await subscriber.close();
        },
      };
    },
  };
}

/** Scale runs publish nothing; a delivery there would be a bug of the suite. */
function unexpectedDelivery(): void {
  throw new Error("unexpected delivery in a subscription-scale run");
}

/** Raw ioredis with JSON, the client graphql-redis-subscriptions runs on. */
const ioredisJson: Contender = {
  name: "ioredis+json",
  async openPipe({ redisUrl, projectId, subscribers, sink }) {
    const publisher = new Redis(redisUrl);
    const subscriber = new Redis(redisUrl);
    const channel = channels.project(projectId);
    for (let i = 0; i < subscribers; i++) {
      subscriber.on("message", (_channel: string, message: string) =>
        sink(seqOf(decodeJson(message))),
      );
    }
    await subscriber.subscribe(channel);
    return {
      publish: async (event) => {
        await publisher.publish(channel, encodeJson(event));
      },
      close: async () => {
        await Promise.all([publisher.quit(), subscriber.quit()]);
      },
    };
  },
};

/**
 * graphql-redis-subscriptions on ioredis: each subscriber is one of its async
 * iterators; it serializes with JSON and validates nothing.
 */
const graphqlRedisSubscriptions: Contender = {
  name: "graphql-redis-subs",
  async openPipe({ redisUrl, projectId, subscribers, sink, fail }) {
    const pubsub = new RedisPubSub({
      publisher: new Redis(redisUrl),
      subscriber: new Redis(redisUrl),
    });
    const channel = channels.project(projectId);
    const iterators = Array.from(
      { length: subscribers },
      (): AsyncIterableIterator<unknown> => pubsub.asyncIterator<unknown>(channel),
    );
    // Each iterator subscribes on its first next(); a probe subscription that
    // resolves after theirs says the channel is confirmed.
    const loops = iterators.map(async (iterator) => {
      for await (const event of iterator) sink(seqOf(event));
    });
    for (const loop of loops) loop.catch(fail);
    pubsub.unsubscribe(await pubsub.subscribe(channel, () => {}));
    return {
      publish: (event) => pubsub.publish(channel, event),
      close: async () => {
        await Promise.all(iterators.map((iterator) => iterator.return?.()));
        await Promise.all(loops);
        await pubsub.close();
      },
    };
  },
};

/** The bus's receive side: one subscription (async iterator) per subscriber. */
async function busPipe(bus: EventBus, { projectId, subscribers, sink, fail }: PipeOptions) {
  const channel = bus.getProjectChannel(projectId);
  const subs = Array.from({ length: subscribers }, () => bus.subscribe([channel]));
  await Promise.all(subs.map((sub) => sub.ready));
  const loops = subs.map(async (sub) => {
    for await (const event of sub) sink(seqOf(event));
  });
  for (const loop of loops) loop.catch(fail);
  return {
    publish: (event: Event) => bus.publish(channel, event),
    close: async () => {
      await bus.close();
      await Promise.all(loops);
    },
  } satisfies Pipe;
}

/**
 * The bus's holder: one subscription per channel, all on one bus. Opened
 * (transport loaded, connected) before it is handed over, as the raw clients
 * are: a first subscription, confirmed, then ended.
 */
async function busHolder(bus: EventBus): Promise<SubscriptionHolder> {
  const first = bus.subscribe([bus.getProjectChannel(randomUUID())]);
  await first.ready;
  first.unsubscribe();
  return {
    subscribeAll: async (names) => {
      const subs = names.map((channel) => bus.subscribe([channel]));
      await Promise.all(subs.map((sub) => sub.ready));
    },
    close: () => bus.close(),
  };
}

/**
 * EventBus as `createEventBus(url)` builds it; `busUrl` picks the transport
 * from the run's Redis URL (or ignores it for the in-memory one).
 */
function eventBus(
  name: string,
  busUrl: (redisUrl: string) => string | undefined,
  options: CreateEventBusOptions = {},
): Contender {
  const open = (redisUrl: string): EventBus => createEventBus(busUrl(redisUrl), options);
  return {
    name,
    openPipe: (options) => busPipe(open(options.redisUrl), options),
    openHolder: (redisUrl) => busHolder(open(redisUrl)),
  };
}

/**
 * In one process without the bus: a Node `EventEmitter` carrying JSON strings,
 * validated both ways with the same zod schemas. The yardstick of the in-memory
 * scenario.
 */
const emitterJsonZod: Contender = {
  name: "emitter+json+zod",
  async openPipe({ projectId, subscribers, sink }) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const channel = channels.project(projectId);
    for (let i = 0; i < subscribers; i++) {
      emitter.on(channel, (message: string) => sink(seqOf(decodeJsonZod(message))));
    }
    return {
      publish: async (event) => {
        emitter.emit(channel, encodeJsonZod(event));
      },
      close: async () => {
        emitter.removeAllListeners();
      },
    };
  },
};

/** Every contender, by the name the report uses. */
export const CONTENDERS = {
  nodeRedisJson: nodeRedis("node-redis+json", { validate: false }),
  nodeRedisJsonZod: nodeRedis("node-redis+json+zod", { validate: true }),
  ioredisJson,
  graphqlRedisSubscriptions,
  busRedis: eventBus("bus/redis", (redisUrl) => redisUrl),
  /** The bus on Redis with history on (default bounds): every publish runs the history script. */
  busRedisHistory: eventBus("bus/redis+history", (redisUrl) => redisUrl, { history: true }),
  busMemory: eventBus("bus/memory", () => undefined),
  emitterJsonZod,
} as const satisfies Record<string, Contender>;
