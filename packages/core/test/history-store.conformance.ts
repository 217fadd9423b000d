/**
 * The history store conformance suite: the rules of positions, retention,
 * idempotency and complete-or-not reads, written once and run against every
 * store (`history-memory.test.ts`, `history-redis.test.ts`), so that memory
 * and Redis keep the same semantics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tryDecodePositionedEvent } from "../src/codec.js";
import {
  type Event,
  encodeEvent,
  encodePosition,
  type HistoryOptions,
  type HistoryRead,
  type HistoryStore,
  type Position,
  parsePosition,
  positionOfEvent,
} from "../src/index.js";
import { waitFor } from "./helpers.js";
import { appendable, newHistoryChannel } from "./history-helpers.js";

/** What a store implementation provides to the suite. */
export interface HistoryStoreFixture {
  /** A new store with these bounds, on the fixture's shared server. */
  newStore(options?: HistoryOptions): HistoryStore;
  /** Records what is published live on `channel` from now on. */
  listen(channel: string): Promise<string[]>;
  /**
   * Lets time pass until the channel's events expired (`events`: `ttlMs`
   * idle), or its epoch and counter too (`meta`: `metaTtlMs` idle).
   */
  expire(store: HistoryStore, channel: string, what: "events" | "meta"): Promise<void>;
  /** Releases the server. */
  cleanup(): Promise<void>;
}

/** Appends `count` fresh events to `channel`; returns them with their positions. */
async function appendMany(
  store: HistoryStore,
  channel: string,
  count: number,
): Promise<{ event: Event; position: Position }[]> {
  const appended = [];
  for (let n = 0; n < count; n++) {
    const { event, input } = appendable({ n });
    const { position } = await store.append(channel, input);
    appended.push({ event, position });
  }
  return appended;
}

const offsets = (read: HistoryRead): number[] => read.entries.map((entry) => entry.offset);

/** Registers the conformance suite for one store. */
export function describeHistoryStoreConformance(
  storeName: string,
  setup: () => Promise<HistoryStoreFixture>,
): void {
  describe(`history store conformance (${storeName})`, () => {
    let fixture: HistoryStoreFixture;
    beforeAll(async () => {
      fixture = await setup();
    });
    afterAll(async () => {
      await fixture.cleanup();
    });

    describe("positions", () => {
      it("offsets start at 1 and grow by exactly 1; positions carry the epoch and the event's fingerprint", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const appended = await appendMany(store, channel, 5);
        expect(appended.map(({ position }) => position.offset)).toEqual([1, 2, 3, 4, 5]);
        const [{ epoch }] = appended.map(({ position }) => position) as [Position];
        for (const { event, position } of appended) {
          expect(position).toEqual(positionOfEvent(epoch, position.offset, event.id));
        }
        const read = await store.read(channel);
        expect(read.current).toEqual({ epoch, offset: 5 });
        expect(read.entries.map((entry) => entry.data)).toEqual(
          appended.map(({ event }) => encodeEvent(event)),
        );
      });

      it("keeps one counter per channel", async () => {
        const store = fixture.newStore();
        const [a, b] = [newHistoryChannel(), newHistoryChannel()];
        await appendMany(store, a, 3);
        const [first] = await appendMany(store, b, 1);
        expect(first?.position.offset).toBe(1);
        expect((await store.read(a)).current.offset).toBe(3);
      });

      it("publishes each event live, in offset order, carrying its position", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const live = await fixture.listen(channel);
        const appended = await appendMany(store, channel, 20);
        await waitFor(() => live.length === 20, { message: "20 live messages" });
        const decoded = live.map((message) => tryDecodePositionedEvent(message));
        expect(decoded).toEqual(
          appended.map(({ event, position }) => ({ ok: true, event, position })),
        );
      });

      it("gives an empty channel a position that stays valid once events arrive", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const empty = await store.read(channel);
        expect(empty).toMatchObject({ entries: [], complete: true, more: false });
        expect(empty.current.offset).toBe(0);
        const since = parsePosition(encodePosition(empty.current));
        await appendMany(store, channel, 2);
        const read = await store.read(channel, { since });
        expect(read).toMatchObject({ complete: true, current: { epoch: since.epoch, offset: 2 } });
        expect(offsets(read)).toEqual([1, 2]);
      });
    });

    describe("reading", () => {
      it("reads the events after a position, through its string form, up to a limit, saying when more remain", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const appended = await appendMany(store, channel, 10);
        const since = parsePosition(encodePosition(appended[3]?.position as Position));
        const page = await store.read(channel, { since, limit: 4 });
        expect(page).toMatchObject({ complete: true, more: true, current: { offset: 10 } });
        expect(offsets(page)).toEqual([5, 6, 7, 8]);
        const rest = await store.read(channel, { since: { ...page.current, offset: 8 }, limit: 4 });
        expect(rest).toMatchObject({ complete: true, more: false });
        expect(offsets(rest)).toEqual([9, 10]);
        const upToDate = await store.read(channel, { since: appended[9]?.position as Position });
        expect(upToDate).toMatchObject({ entries: [], complete: true, more: false });
      });

      it("reads the latest events", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        await appendMany(store, channel, 6);
        expect(offsets(await store.read(channel, { limit: 3 }))).toEqual([4, 5, 6]);
        const all = await store.read(channel, { limit: 100 });
        expect(all).toMatchObject({ complete: true, more: false });
        expect(offsets(all)).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it("refuses a limit that is not a positive integer", async () => {
        const store = fixture.newStore();
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          await expect(store.read(newHistoryChannel(), { limit })).rejects.toThrow(RangeError);
        }
      });

      it("says a position beyond the channel's last offset is from the future", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const [first] = await appendMany(store, channel, 1);
        const since = { epoch: first?.position.epoch as string, offset: 7 };
        const read = await store.read(channel, { since });
        expect(read).toMatchObject({ complete: false, gap: "future", entries: [] });
        expect(read.current.offset).toBe(1);
      });

      it("says a position whose offset now holds another event has diverged", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const appended = await appendMany(store, channel, 3);
        const at = appended[1]?.position as Position;
        const forged = positionOfEvent(at.epoch, at.offset, "another-event");
        expect(await store.read(channel, { since: forged })).toMatchObject({
          complete: false,
          gap: "diverged",
          entries: [],
        });
        const genuine = await store.read(channel, { since: at });
        expect(genuine.complete).toBe(true);
        expect(offsets(genuine)).toEqual([3]);
      });

      it("says a position of another channel is of a foreign epoch", async () => {
        const store = fixture.newStore();
        const [a, b] = [newHistoryChannel(), newHistoryChannel()];
        const [ofA] = await appendMany(store, a, 1);
        await appendMany(store, b, 3);
        const read = await store.read(b, { since: ofA?.position as Position });
        expect(read).toMatchObject({ complete: false, gap: "foreign-epoch", entries: [] });
        expect(read.current.offset).toBe(3);
      });
    });

    describe("retention", () => {
      it("keeps the last maxEntries events; a read from before them is incomplete (trimmed)", async () => {
        const store = fixture.newStore({ maxEntries: 5 });
        const channel = newHistoryChannel();
        const appended = await appendMany(store, channel, 12);
        const latest = await store.read(channel);
        expect(offsets(latest)).toEqual([8, 9, 10, 11, 12]);
        expect(latest.complete).toBe(true);
        const tooOld = await store.read(channel, { since: appended[2]?.position as Position });
        expect(tooOld).toMatchObject({ complete: false, gap: "trimmed", more: false });
        expect(offsets(tooOld)).toEqual([8, 9, 10, 11, 12]);
        const justInTime = await store.read(channel, { since: appended[6]?.position as Position });
        expect(justInTime.complete).toBe(true);
        expect(offsets(justInTime)).toEqual([8, 9, 10, 11, 12]);
        const moreThanKept = await store.read(channel, { limit: 20 });
        expect(moreThanKept.complete).toBe(true);
        expect(
          await store.read(channel, { since: { epoch: latest.current.epoch, offset: 0 } }),
        ).toMatchObject({ complete: false, gap: "trimmed" });
      });

      it("expires idle events but keeps the counter: reads are incomplete (expired), offsets go on", async () => {
        const store = fixture.newStore({ ttlMs: 60_000 });
        const channel = newHistoryChannel();
        const appended = await appendMany(store, channel, 3);
        await fixture.expire(store, channel, "events");
        const since = appended[0]?.position as Position;
        const read = await store.read(channel, { since });
        expect(read).toMatchObject({ complete: false, gap: "expired", entries: [] });
        expect(read.current).toEqual({ epoch: since.epoch, offset: 3 });
        expect(await store.read(channel)).toMatchObject({ complete: false, gap: "expired" });
        const [next] = await appendMany(store, channel, 1);
        expect(next?.position).toMatchObject({ epoch: since.epoch, offset: 4 });
        const after = await store.read(channel, { since: appended[2]?.position as Position });
        expect(after.complete).toBe(true);
        expect(offsets(after)).toEqual([4]);
      });

      it("starts a new epoch once the counter expired: old positions are of a foreign epoch", async () => {
        const store = fixture.newStore({ ttlMs: 60_000, metaTtlMs: 120_000 });
        const channel = newHistoryChannel();
        const [old] = await appendMany(store, channel, 2);
        await fixture.expire(store, channel, "meta");
        const [fresh] = await appendMany(store, channel, 1);
        expect(fresh?.position.offset).toBe(1);
        expect(fresh?.position.epoch).not.toBe(old?.position.epoch);
        const read = await store.read(channel, { since: old?.position as Position });
        expect(read).toMatchObject({ complete: false, gap: "foreign-epoch", entries: [] });
        expect(read.current).toEqual({ epoch: fresh?.position.epoch, offset: 1 });
      });
    });

    describe("idempotency", () => {
      it("appends an event published twice once, answers the first position and publishes it once", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        const live = await fixture.listen(channel);
        const { input } = appendable();
        const first = await store.append(channel, input);
        const [second, third] = await Promise.all([
          store.append(channel, input),
          store.append(channel, input),
        ]);
        expect(first.duplicate).toBe(false);
        expect(second).toEqual({ position: first.position, duplicate: true });
        expect(third).toEqual({ position: first.position, duplicate: true });
        await appendMany(store, channel, 1);
        await waitFor(() => live.length === 2, { message: "2 live messages" });
        expect(offsets(await store.read(channel))).toEqual([1, 2]);
      });

      it("remembers the last idempotencyWindow ids, and none with a window of 0", async () => {
        const store = fixture.newStore({ idempotencyWindow: 3 });
        const channel = newHistoryChannel();
        const [first] = await appendMany(store, channel, 4);
        const again = {
          eventId: first?.event.id as string,
          data: encodeEvent(first?.event as Event),
        };
        expect(await store.append(channel, again)).toMatchObject({
          duplicate: false,
          position: { offset: 5 },
        });
        const off = fixture.newStore({ idempotencyWindow: 0 });
        const other = newHistoryChannel();
        await off.append(other, again);
        expect(await off.append(other, again)).toMatchObject({
          duplicate: false,
          position: { offset: 2 },
        });
      });
    });

    describe("input", () => {
      it("refuses data that is not a non-empty JSON object, and appends nothing", async () => {
        const store = fixture.newStore();
        const channel = newHistoryChannel();
        for (const data of ["", "{}", "[1]", "null"]) {
          await expect(store.append(channel, { eventId: "x", data })).rejects.toThrow(TypeError);
        }
        expect((await store.read(channel)).current.offset).toBe(0);
      });

      it("refuses bounds out of range", () => {
        expect(() => fixture.newStore({ maxEntries: 0 })).toThrow(RangeError);
        expect(() => fixture.newStore({ ttlMs: 1.5 })).toThrow(RangeError);
        expect(() => fixture.newStore({ ttlMs: 10, metaTtlMs: 5 })).toThrow(RangeError);
        expect(() => fixture.newStore({ idempotencyWindow: -1 })).toThrow(RangeError);
      });
    });
  });
}
