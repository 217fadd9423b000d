/**
 * The Redis history store's own contract, beyond the conformance suite: the
 * key layout and its cluster slot, the ttls it sets, EVALSHA with the EVAL
 * fallback, SPUBLISH, the publish script's checks of its arguments, and how
 * failures reach the caller.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { startRedisServer } from "@eventbus/test-redis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { tryDecodePositionedEvent } from "../src/codec.js";
import {
  type HistoryScriptClient,
  historyKeys,
  RedisHistoryStore,
} from "../src/history/redis-store.js";
import {
  HistoryReadFailedError,
  InvalidChannelError,
  NotConnectedError,
  PublishFailedError,
} from "../src/index.js";
import { waitFor } from "./helpers.js";
import { appendable, newHistoryChannel, useHistoryStores } from "./history-helpers.js";
import { connectHistoryClient, useRedisServer } from "./redis-helpers.js";

const script = (name: string): string =>
  readFileSync(new URL(`../src/history/${name}`, import.meta.url), "utf8");
const PUBLISH_SCRIPT = script("history-publish.lua");

describe("redis history - keys and script", () => {
  const redis = useRedisServer();
  const { newStore } = useHistoryStores(redis);

  it("keeps a channel's history in a Stream, a meta hash and an id set named after it, with their ttls", async () => {
    const store = newStore({ ttlMs: 60_000, metaTtlMs: 600_000 });
    const channel = newHistoryChannel();
    const { input } = appendable();
    const { position } = await store.append(channel, input);
    const keys = historyKeys(channel);
    expect(keys).toEqual({
      history: `{${channel}}:history`,
      meta: `{${channel}}:meta`,
      ids: `{${channel}}:ids`,
    });
    expect(await redis.raw.type(keys.history)).toBe("stream");
    expect(await redis.raw.hGetAll(keys.meta)).toEqual({ epoch: position.epoch, offset: "1" });
    expect(await redis.raw.zRangeWithScores(keys.ids, 0, -1)).toEqual([
      { value: input.eventId, score: 1 },
    ]);
    const entries = await redis.raw.xRange(keys.history, "-", "+");
    expect(entries).toEqual([{ id: "1-0", message: { d: input.data } }]);
    const [historyTtl, metaTtl, idsTtl] = await Promise.all(
      [keys.history, keys.meta, keys.ids].map((key) => redis.raw.pTTL(key)),
    );
    expect(historyTtl).toBeGreaterThan(50_000);
    expect(historyTtl).toBeLessThanOrEqual(60_000);
    expect(idsTtl).toBeLessThanOrEqual(60_000);
    expect(metaTtl).toBeGreaterThan(60_000);
    expect(metaTtl).toBeLessThanOrEqual(600_000);
  });

  it("refuses a channel name that would break the hash tag", async () => {
    const store = newStore();
    const { input } = appendable();
    for (const channel of ["", "a{b", "a}b"]) {
      await expect(store.append(channel, input)).rejects.toThrow(InvalidChannelError);
      await expect(store.read(channel)).rejects.toThrow(InvalidChannelError);
    }
  });

  it("runs the scripts with EVALSHA, and loads them again with EVAL after SCRIPT FLUSH", async () => {
    const store = newStore();
    const channel = newHistoryChannel();
    await store.append(channel, appendable().input);
    await redis.raw.sendCommand(["CONFIG", "RESETSTAT"]);
    await redis.raw.scriptFlush();
    await store.append(channel, appendable().input);
    await store.append(channel, appendable().input);
    await store.read(channel);
    const stats = await redis.raw.info("commandstats");
    const calls = (name: string) =>
      Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // First append: EVALSHA refused (NOSCRIPT), then EVAL; second append and the read: EVALSHA, and the read's EVAL.
    expect({ evalsha: calls("evalsha"), eval: calls("eval") }).toEqual({ evalsha: 3, eval: 2 });
    expect((await store.read(channel)).current.offset).toBe(3);
  });

  it("appends made in one turn go in one script run per channel, in order, each with its own answer", async () => {
    const store = newStore();
    const channel = newHistoryChannel();
    const other = newHistoryChannel();
    const repeated = appendable();
    await store.append(channel, appendable().input);
    await redis.raw.sendCommand(["CONFIG", "RESETSTAT"]);
    const inputs = Array.from({ length: 300 }, () => appendable().input);
    const answers = await Promise.all([
      ...inputs.map((input) => store.append(channel, input)),
      store.append(channel, repeated.input),
      store.append(other, appendable().input),
      store.append(channel, repeated.input),
    ]);
    const stats = await redis.raw.info("commandstats");
    // 302 appends to one channel: two runs (256 + 46); one to the other channel.
    expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1])).toBe(3);
    expect(answers.slice(0, 301).map((answer) => answer.position.offset)).toEqual(
      Array.from({ length: 301 }, (_, index) => index + 2),
    );
    expect(answers[301]?.position.offset).toBe(1);
    expect(answers[302]).toEqual({ ...answers[300], duplicate: true });
    expect((await store.read(channel)).current.offset).toBe(302);
  });

  it("a batch whose append fails: every caller is told PublishFailedError, nothing is appended, a retry appends each once", async () => {
    const store = newStore({ maxEntries: 10 });
    const channel = newHistoryChannel();
    const keys = historyKeys(channel);
    await store.append(channel, appendable().input);
    // An entry id above the counter makes the run's XADD fail (the script checks each XADD
    // and, should one fail midway, keeps the counter of the events before it).
    await redis.raw.sendCommand(["XADD", keys.history, "3-0", "d", "{}"]);
    const inputs = Array.from({ length: 4 }, () => appendable().input);
    const results = await Promise.allSettled(inputs.map((input) => store.append(channel, input)));
    expect(results.map((result) => result.status)).toEqual(Array(4).fill("rejected"));
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(PublishFailedError);
    expect(await redis.raw.hGet(keys.meta, "offset")).toBe("1");
    await redis.raw.del(keys.history);
    const retried = await Promise.all(inputs.map((input) => store.append(channel, input)));
    expect(retried.map((answer) => [answer.position.offset, answer.duplicate])).toEqual([
      [2, false],
      [3, false],
      [4, false],
      [5, false],
    ]);
    const again = await store.append(channel, inputs[1] as (typeof inputs)[number]);
    expect(again).toEqual({ ...retried[1], duplicate: true });
  });

  it("publishes with SPUBLISH when asked (sharded Pub/Sub)", async () => {
    const store = newStore({ publishCommand: "SPUBLISH" });
    const channel = newHistoryChannel();
    const subscriber = createClient({ url: redis.server.url });
    await subscriber.connect();
    try {
      const received: string[] = [];
      await subscriber.sSubscribe(channel, (message) => received.push(message));
      const { event, input } = appendable();
      const { position } = await store.append(channel, input);
      await waitFor(() => received.length === 1, { message: "the sharded message" });
      expect(tryDecodePositionedEvent(received[0] as string)).toEqual({
        ok: true,
        event,
        position,
      });
    } finally {
      subscriber.destroy();
    }
  });

  it("the publish script checks its arguments and changes nothing when they are wrong", async () => {
    const channel = newHistoryChannel();
    const keys = historyKeys(channel);
    const { input } = appendable();
    const good = [channel, input.data, input.eventId, "10", "1000", "2000", "10"];
    const run = (args: string[], keyList = [keys.history, keys.meta, keys.ids]) =>
      redis.raw.eval(PUBLISH_SCRIPT, { keys: keyList, arguments: args });
    const wrong: [string, string[], string[]?][] = [
      ["too few arguments", good.slice(0, 6)],
      ["too few keys", good, [keys.history, keys.meta]],
      ["max entries 0", [...good.slice(0, 3), "0", ...good.slice(4)]],
      ["a fractional ttl", [...good.slice(0, 4), "1.5", ...good.slice(5)]],
      ["a meta ttl below the ttl", [...good.slice(0, 5), "999", good[6] as string]],
      ["a negative window", [...good.slice(0, 6), "-1"]],
      ["another command", [...good, "SET"]],
      ["an empty object", [channel, "{ }", ...good.slice(2)]],
      ["an array", [channel, "[1]", ...good.slice(2)]],
    ];
    for (const [label, args, keyList] of wrong) {
      await expect(run(args, keyList), label).rejects.toThrow(/eventbus history publish/);
    }
    expect(await redis.raw.exists([keys.history, keys.meta, keys.ids])).toBe(0);
    expect(await run(good)).toEqual([1, expect.stringMatching(/^[0-9a-f]{12}$/), 0]);
    // Contract version 2: more events follow the command as pairs of data and id.
    const [data, id] = [appendable().input.data, randomUUID()];
    await expect(run([...good, "PUBLISH", data]), "an odd pair").rejects.toThrow(
      /eventbus history publish/,
    );
    expect(await run([...good, "PUBLISH", data, id, "[]", randomUUID()]).catch(String)).toMatch(
      /non-empty JSON object/,
    );
    expect(await run([...good, "PUBLISH", data, id])).toEqual([1, expect.any(String), 1, 2, 0]);
  });

  it("both scripts read the meta and start an epoch with the very same code", () => {
    const epochBlock = (source: string): string | undefined =>
      /local meta = redis\.call\('HMGET'[\s\S]*?\nend\n/.exec(source)?.[0];
    const publish = epochBlock(PUBLISH_SCRIPT);
    expect(publish).toContain("redis.call('DEL', history_key, ids_key)");
    expect(epochBlock(script("history-read.lua"))).toBe(publish);
  });

  it("a failure to publish is a PublishFailedError, to read a HistoryReadFailedError; the client's own errors pass as they are", async () => {
    const broken = await connectHistoryClient(redis.server.url);
    broken.destroy();
    const store = newStore();
    const viaBroken = new RedisHistoryStore({ client: () => broken });
    const channel = newHistoryChannel();
    await expect(viaBroken.append(channel, appendable().input)).rejects.toThrow(PublishFailedError);
    await expect(viaBroken.read(channel)).rejects.toThrow(HistoryReadFailedError);
    // A key of another type: the server answers with an error.
    await redis.raw.set(historyKeys(channel).meta, "not a hash");
    await expect(store.append(channel, appendable().input)).rejects.toThrow(PublishFailedError);
    await expect(store.read(channel)).rejects.toThrow(HistoryReadFailedError);
    const down = new NotConnectedError("down");
    const waiting = new RedisHistoryStore({
      client: (): HistoryScriptClient => {
        throw down;
      },
    });
    await expect(waiting.append(newHistoryChannel(), appendable().input)).rejects.toBe(down);
    await expect(waiting.read(newHistoryChannel())).rejects.toBe(down);
  });
});

describe("redis history - cluster slots", () => {
  it("puts every key of a channel in the slot of the channel itself", async () => {
    const server = await startRedisServer({ args: ["--cluster-enabled", "yes"] });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      for (const channel of [
        newHistoryChannel(),
        `events:agent:${randomUUID()}`,
        "custom.prefix:project:x",
      ]) {
        const slot = await raw.sendCommand(["CLUSTER", "KEYSLOT", channel]);
        for (const key of Object.values(historyKeys(channel))) {
          expect(await raw.sendCommand(["CLUSTER", "KEYSLOT", key]), key).toBe(slot);
        }
      }
    } finally {
      raw.destroy();
      await server.stop();
    }
  });
});
