/**
 * `@eventbus/core/redis-history`: the history store on Redis. Per channel a
 * Stream of the retained events and a small meta hash (epoch, last offset),
 * plus a sorted set of recent event ids; every key names the channel in a
 * hash tag, so all of them live in the channel's own Redis Cluster slot.
 * Publishing is one Lua script (`history-publish.lua`, shipped as
 * `@eventbus/core/history-publish.lua`), reading another; node-redis runs
 * them with EVALSHA and falls back to EVAL when the server does not know them.
 */
import { readFileSync } from "node:fs";
import { type CommandParser, defineScript } from "redis";
import {
  EventBusError,
  HistoryReadFailedError,
  InvalidChannelError,
  PublishFailedError,
} from "../errors.js";
import { messageBytes } from "../transports/redis-options.js";
import { positionOfEvent } from "./position.js";
import { assessRead, type Fetched, planRead, type ReadPlan } from "./read.js";
import {
  type Appended,
  type AppendInput,
  type HistoryEntry,
  type HistoryOptions,
  type HistoryQuery,
  type HistoryRead,
  type HistorySettings,
  type HistoryStore,
  resolveHistorySettings,
} from "./store.js";
import { checkCanCarryPosition } from "./wire.js";

/** The Redis keys of one channel's history. */
export interface HistoryKeys {
  /** `{<channel>}:history`: a Stream, entry id `<offset>-0`, field `d` holding the event's JSON. */
  readonly history: string;
  /** `{<channel>}:meta`: a hash of `epoch` and `offset` (the last offset given). */
  readonly meta: string;
  /** `{<channel>}:ids`: a sorted set of the last event ids, each scored by its offset. */
  readonly ids: string;
}

/**
 * The keys of `channel`'s history. The channel is their hash tag, so they
 * hash to the slot of the channel itself (a name without braces hashes whole).
 * @throws {InvalidChannelError} the channel is empty or contains `{` or `}`.
 */
export function historyKeys(channel: string): HistoryKeys {
  if (channel === "" || /[{}]/.test(channel)) {
    throw new InvalidChannelError(
      channel,
      "a channel with history must be non-empty, without { or }",
    );
  }
  const tag = `{${channel}}`;
  return { history: `${tag}:history`, meta: `${tag}:meta`, ids: `${tag}:ids` };
}

/** The Pub/Sub command the publish script uses: `SPUBLISH` for sharded Pub/Sub (Redis 7+). */
export type PublishCommand = "PUBLISH" | "SPUBLISH";

/** One run of the publish script: one or more events of one channel, appended in order. */
export interface PublishCall {
  readonly channel: string;
  readonly inputs: readonly [AppendInput, ...AppendInput[]];
  readonly settings: HistorySettings;
  readonly command: PublishCommand;
}

/** What the publish script answered: the epoch, and each event's offset and whether it was a duplicate. */
export interface PublishReply {
  readonly epoch: string;
  readonly appended: readonly { readonly offset: number; readonly duplicate: boolean }[];
}

/**
 * At most this many events go in one run of the publish script: a run
 * blocks the server while it runs, so a burst is cut into runs of this size.
 */
export const MAX_EVENTS_PER_PUBLISH = 256;

/** One run of the read script. */
export interface ReadCall {
  readonly channel: string;
  readonly plan: ReadPlan;
  readonly metaTtlMs: number;
}

const script = (name: string): string =>
  readFileSync(new URL(`./${name}`, import.meta.url), "utf8");

const pushKeys = (parser: CommandParser, channel: string): void => {
  const keys = historyKeys(channel);
  parser.pushKeys([keys.history, keys.meta, keys.ids]);
};

/**
 * The history scripts, for node-redis's `createClient({ scripts })`: a client
 * created with them has `eventbusHistoryPublish` and `eventbusHistoryRead`.
 */
export const HISTORY_SCRIPTS = {
  eventbusHistoryPublish: defineScript({
    SCRIPT: script("history-publish.lua"),
    NUMBER_OF_KEYS: 3,
    parseCommand(parser: CommandParser, call: PublishCall): void {
      const { channel, inputs, settings } = call;
      const [first, ...more] = inputs;
      pushKeys(parser, channel);
      parser.push(
        channel,
        messageBytes(first.data),
        first.eventId,
        String(settings.maxEntries),
        String(settings.ttlMs),
        String(settings.metaTtlMs),
        String(settings.idempotencyWindow),
        call.command,
      );
      for (const input of more) parser.push(messageBytes(input.data), input.eventId);
    },
    transformReply: (reply: unknown): PublishReply => parsePublishReply(reply),
  }),
  eventbusHistoryRead: defineScript({
    SCRIPT: script("history-read.lua"),
    NUMBER_OF_KEYS: 3,
    parseCommand(parser: CommandParser, call: ReadCall): void {
      const { plan } = call;
      pushKeys(parser, call.channel);
      parser.push(
        plan.mode,
        plan.mode === "after" ? plan.epoch : "",
        plan.mode === "after" ? String(plan.from) : "",
        String(plan.count),
        String(call.metaTtlMs),
      );
    },
    transformReply: (reply: unknown): Fetched => parseReadReply(reply),
  }),
};

/** The part of a node-redis client created with {@link HISTORY_SCRIPTS} that the store uses. */
export interface HistoryScriptClient {
  eventbusHistoryPublish(call: PublishCall): Promise<PublishReply>;
  eventbusHistoryRead(call: ReadCall): Promise<Fetched>;
}

/** Options of {@link RedisHistoryStore}: the bounds, the client, and the publish command. */
export interface RedisHistoryStoreOptions extends HistoryOptions {
  /**
   * The connected client to run a script on, asked for before each operation:
   * a node-redis client created with `scripts: HISTORY_SCRIPTS` (a transport
   * hands its publisher connection, waiting for it within its own bound). An
   * `EventBusError` it throws (`NotConnectedError`...) reaches the caller as is.
   */
  readonly client: () => HistoryScriptClient | Promise<HistoryScriptClient>;
  /** `PUBLISH` (default), or `SPUBLISH` for sharded Pub/Sub on Redis 7 or later. */
  readonly publishCommand?: PublishCommand;
}

/**
 * The Redis history store: see the module's description and `docs/history.md`.
 * It holds no connection of its own, so it has nothing to close.
 */
export class RedisHistoryStore implements HistoryStore {
  readonly settings: HistorySettings;
  readonly #client: () => HistoryScriptClient | Promise<HistoryScriptClient>;
  readonly #command: PublishCommand;
  /** The appends of this turn, per channel, sent together once the turn ends. */
  #waiting = new Map<string, PendingAppend[]>();

  /** @throws {RangeError} a bound is out of range (see {@link HistoryOptions}). */
  constructor(options: RedisHistoryStoreOptions) {
    this.settings = resolveHistorySettings(options);
    this.#client = options.client;
    this.#command = options.publishCommand ?? "PUBLISH";
  }

  /**
   * Appends and publishes (see {@link HistoryStore.append}). The appends to a
   * channel made in one turn of the event loop go to the server together, in
   * order, in runs of up to {@link MAX_EVENTS_PER_PUBLISH} events: a burst
   * costs one script run per batch rather than one per event.
   * @throws {TypeError} `data` is not a non-empty JSON object text.
   * @throws {InvalidChannelError} the channel is empty or contains `{` or `}`.
   * @throws {PublishFailedError} the server answered with an error or the
   *   connection failed with the script in flight: retry with the same event id.
   */
  async append(channel: string, input: AppendInput): Promise<Appended> {
    checkCanCarryPosition(input.data);
    historyKeys(channel);
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) queueMicrotask(() => this.#flush());
      let batch = this.#waiting.get(channel);
      if (batch === undefined) {
        batch = [];
        this.#waiting.set(channel, batch);
      }
      batch.push({ input, resolve, reject });
    });
  }

  /** Sends this turn's appends: one script run per channel and batch. */
  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    for (const [channel, appends] of waiting) {
      for (let start = 0; start < appends.length; start += MAX_EVENTS_PER_PUBLISH) {
        void this.#run(channel, appends.slice(start, start + MAX_EVENTS_PER_PUBLISH));
      }
    }
  }

  async #run(channel: string, appends: readonly PendingAppend[]): Promise<void> {
    const inputs = appends.map((append) => append.input) as [AppendInput, ...AppendInput[]];
    const call = { channel, inputs, settings: this.settings, command: this.#command };
    let reply: PublishReply;
    try {
      reply = await (await this.#client()).eventbusHistoryPublish(call);
      if (reply.appended.length !== appends.length) {
        throw new TypeError(
          `the publish script answered ${reply.appended.length} of ${appends.length} events`,
        );
      }
    } catch (cause) {
      const error =
        cause instanceof EventBusError ? cause : new PublishFailedError(channel, { cause });
      for (const append of appends) append.reject(error);
      return;
    }
    appends.forEach((append, index) => {
      const { offset, duplicate } = reply.appended[index] as PublishReply["appended"][number];
      const position = positionOfEvent(reply.epoch, offset, append.input.eventId);
      append.resolve({ position, duplicate });
    });
  }

  /**
   * Reads with one script run (see {@link HistoryStore.read}).
   * @throws {RangeError} `limit` is not a positive integer.
   * @throws {InvalidChannelError} the channel is empty or contains `{` or `}`.
   * @throws {HistoryReadFailedError} the server answered with an error or the connection failed.
   */
  async read(channel: string, query: HistoryQuery = {}): Promise<HistoryRead> {
    const plan = planRead(query, this.settings);
    historyKeys(channel);
    let fetched: Fetched;
    try {
      const client = await this.#client();
      fetched = await client.eventbusHistoryRead({
        channel,
        plan,
        metaTtlMs: this.settings.metaTtlMs,
      });
    } catch (cause) {
      throw cause instanceof EventBusError ? cause : new HistoryReadFailedError(channel, { cause });
    }
    return assessRead(fetched, plan, query.since);
  }
}

/**
 * Builds a Redis history store; see {@link RedisHistoryStore}.
 * @throws {RangeError} a bound is out of range.
 */
export function createRedisHistoryStore(options: RedisHistoryStoreOptions): RedisHistoryStore {
  return new RedisHistoryStore(options);
}

/** An append waiting for its turn's script run. */
interface PendingAppend {
  readonly input: AppendInput;
  resolve(appended: Appended): void;
  reject(error: Error): void;
}

function parsePublishReply(reply: unknown): PublishReply {
  if (Array.isArray(reply) && reply.length >= 3 && reply.length % 2 === 1) {
    const [offset, epoch, ...rest] = reply as unknown[];
    if (typeof epoch === "string") {
      const pairs = [offset, ...rest];
      const appended: { offset: number; duplicate: boolean }[] = [];
      for (let index = 0; index < pairs.length; index += 2) {
        const at = pairs[index];
        const duplicate = pairs[index + 1];
        if (!isOffset(at) || (duplicate !== 0 && duplicate !== 1)) break;
        appended.push({ offset: at, duplicate: duplicate === 1 });
      }
      if (appended.length * 2 === pairs.length) return { epoch, appended };
    }
  }
  throw new TypeError(`unexpected reply of the history publish script: ${describe(reply)}`);
}

function parseReadReply(reply: unknown): Fetched {
  if (Array.isArray(reply) && reply.length >= 2 && reply.length % 2 === 0) {
    const [epoch, top, ...rest] = reply as unknown[];
    if (typeof epoch === "string" && (top === 0 || isOffset(top))) {
      const entries: HistoryEntry[] = [];
      for (let index = 0; index < rest.length; index += 2) {
        const offset = rest[index];
        const data = rest[index + 1];
        if (!isOffset(offset) || typeof data !== "string") break;
        entries.push({ offset, data });
      }
      if (entries.length * 2 === rest.length) return { epoch, top, entries };
    }
  }
  throw new TypeError(`unexpected reply of the history read script: ${describe(reply)}`);
}

function isOffset(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

function describe(reply: unknown): string {
  const text = JSON.stringify(reply) ?? String(reply);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
