/**
 * Exact `MAXLEN` against `MAXLEN ~` in the history publish script: publish
 * throughput and the server's CPU time per event (plain PUBLISH alongside, as
 * the yardstick), and Redis memory per retained event, on a server of its own.
 * CPU time is the steadier figure on a shared machine: it does not count the
 * time the server waited for a core.
 *
 *   npm run history-maxlen -w @eventbus/bench [-- --quick] [-- --events 50000]
 *
 * Each variant publishes the same ~300 B events to a channel of its own with
 * one subscriber, 1,000 in flight, with `maxEntries` 1,000 (so nearly every
 * publish trims); variants run in turn, A B C A B C..., after one round to
 * warm up that is not counted, and each figure is the median of the rounds. Prints a Markdown table on stdout; `--json` prints the
 * figures as JSON instead.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { encodeEvent, HISTORY_DEFAULTS } from "@eventbus/core";
import { HISTORY_SCRIPTS, historyKeys } from "@eventbus/core/redis-history";
import { startRedisServer } from "@eventbus/test-redis";
import { createClient, defineScript } from "redis";
import { eventPool } from "./fixtures.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    events: { type: "string" },
    rounds: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const eventCount = Number(values.events ?? (values.quick ? 2_000 : 50_000));
const rounds = Number(values.rounds ?? (values.quick ? 1 : 5));
const inFlight = 1_000;
const settings = { ...HISTORY_DEFAULTS, maxEntries: 1_000 };

const exact = HISTORY_SCRIPTS.eventbusHistoryPublish;
const approximateSource = exact.SCRIPT.toString().replace(
  "'MAXLEN', max_entries",
  "'MAXLEN', '~', max_entries",
);
if (approximateSource === exact.SCRIPT)
  throw new Error("the script's XADD ... MAXLEN was not found");
const approximate = defineScript({ ...exact, SCRIPT: approximateSource });

type Variant = "PUBLISH (no history)" | "history, MAXLEN =" | "history, MAXLEN ~";
const variants: Variant[] = ["PUBLISH (no history)", "history, MAXLEN =", "history, MAXLEN ~"];

/** What one variant measured: events/s and server CPU per event, per round; the retained stream after the last. */
interface Figures {
  rates: number[];
  cpuMicros: number[];
  retained?: number;
  bytesPerEntry?: number;
  bytesPerId?: number;
}

/** The redis-server process's CPU time so far (user + system), from `INFO cpu`. */
async function serverCpuSeconds(): Promise<number> {
  const info = await publisher.info("cpu");
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

const progress = (message: string): void => {
  process.stderr.write(`[history-maxlen] ${message}\n`);
};

const server = await startRedisServer({ args: ["--client-output-buffer-limit", "pubsub 0 0 0"] });
const options = { url: server.url, RESP: 3, commandOptions: { timeout: 0 } } as const;
const publisher = createClient({ ...options, scripts: { exact, approximate } });
const subscriber = createClient(options);
try {
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const projectId = randomUUID();
  const data = eventPool(eventCount, 300, projectId).map((event) => ({
    eventId: event.id,
    data: encodeEvent(event),
  }));
  const figures = new Map<Variant, Figures>(
    variants.map((variant) => [variant, { rates: [], cpuMicros: [] }]),
  );
  for (let round = -1; round < rounds; round++) {
    for (const variant of variants) {
      const channel = `events:project:${randomUUID()}`;
      let received = 0;
      let allReceived: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        allReceived = resolve;
      });
      await subscriber.subscribe(channel, () => {
        if (++received === eventCount) allReceived();
      });
      const publishOne = (input: (typeof data)[number]): Promise<unknown> => {
        if (variant === "PUBLISH (no history)") return publisher.publish(channel, input.data);
        const call = { channel, inputs: [input], settings, command: "PUBLISH" } as const;
        return variant === "history, MAXLEN ="
          ? publisher.exact(call)
          : publisher.approximate(call);
      };
      const cpuBefore = await serverCpuSeconds();
      const started = performance.now();
      for (let at = 0; at < eventCount; at += inFlight) {
        await Promise.all(data.slice(at, at + inFlight).map(publishOne));
      }
      await done;
      const seconds = (performance.now() - started) / 1_000;
      const cpuMicros = (((await serverCpuSeconds()) - cpuBefore) * 1e6) / eventCount;
      await subscriber.unsubscribe(channel);
      progress(
        `${round < 0 ? "warm-up" : `round ${round + 1}`}, ${variant}: ${Math.round(eventCount / seconds)} events/s`,
      );
      if (round < 0) continue; // warming up
      const figure = figures.get(variant) as Figures;
      figure.rates.push(eventCount / seconds);
      figure.cpuMicros.push(cpuMicros);
      if (variant !== "PUBLISH (no history)") {
        const keys = historyKeys(channel);
        const memory = async (key: string): Promise<number> =>
          Number(await publisher.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]));
        figure.retained = await publisher.xLen(keys.history);
        figure.bytesPerEntry = (await memory(keys.history)) / figure.retained;
        figure.bytesPerId = (await memory(keys.ids)) / (await publisher.zCard(keys.ids));
      }
    }
  }
  const median = (list: number[]): number => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const plain = median(figures.get("PUBLISH (no history)")?.rates ?? []);
  const rows = variants.map((variant) => {
    const figure = figures.get(variant) as Figures;
    const rate = median(figure.rates);
    return {
      variant,
      eventsPerSecond: Math.round(rate),
      vsPlain: Number((rate / plain).toFixed(2)),
      serverCpuMicrosPerEvent: Number(median(figure.cpuMicros).toFixed(1)),
      retained: figure.retained,
      bytesPerEntry:
        figure.bytesPerEntry === undefined ? undefined : Math.round(figure.bytesPerEntry),
      bytesPerId: figure.bytesPerId === undefined ? undefined : Math.round(figure.bytesPerId),
    };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ eventCount, rounds, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(
      [
        `${eventCount} events of ~300 B per round, ${rounds} round(s), maxEntries ${settings.maxEntries}, one subscriber, ${inFlight} in flight; medians.`,
        "",
        "| variant | events/s | vs plain PUBLISH | server CPU per event | entries retained | bytes per retained entry (MEMORY USAGE) | bytes per remembered id |",
        "|---|---|---|---|---|---|---|",
        ...rows.map(
          (row) =>
            `| ${row.variant} | ${row.eventsPerSecond} | ${row.vsPlain}x | ${row.serverCpuMicrosPerEvent} µs | ${row.retained ?? "-"} | ${row.bytesPerEntry ?? "-"} | ${row.bytesPerId ?? "-"} |`,
        ),
        "",
      ].join("\n"),
    );
  }
} finally {
  publisher.destroy();
  subscriber.destroy();
  await server.stop();
}
