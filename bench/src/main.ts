/**
 * The benchmark suite's command line: `npm run bench [-- --quick] [--only id,id]
 * [--contenders name,name] [--out file.json]` (`--only` and `--contenders`
 * narrow a run down, for profiling). Starts its own redis-server, runs the scenarios,
 * prints Markdown tables on stdout and writes every figure as JSON; progress
 * goes to stderr.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startRedisServer } from "@eventbus/test-redis";
import { createClient } from "redis";
import { type Context, runOrReport, type ScenarioResult } from "./harness.js";
import { describeMachine, loadAverage, type Report, renderMarkdown } from "./report.js";
import { scenarios } from "./scenarios/index.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    contenders: { type: "string" },
    out: { type: "string", default: resolve(import.meta.dirname, "../results/latest.json") },
  },
});

const quick = values.quick;
const only = values.only?.split(",");
const contenders = values.contenders?.split(",");
const selected = scenarios({ quick }).filter((s) => only === undefined || only.includes(s.id));
if (selected.length === 0) throw new Error(`no scenario matches --only ${values.only}`);

const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

// Pipelined bursts may outpace a subscriber for a moment; Redis would drop it
// at the default Pub/Sub output-buffer limit.
const loadAtStart = loadAverage();
const server = await startRedisServer({ args: ["--client-output-buffer-limit", "pubsub 0 0 0"] });
progress(`redis-server pid ${server.pid} at ${server.url}`);
try {
  const redisVersion = await serverVersion(server.url);
  const context: Context = {
    redisUrl: server.url,
    progress,
    selected: (name) => contenders === undefined || contenders.includes(name),
  };
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    progress(`${scenario.title}`);
    results.push(await runOrReport(scenario, context));
  }
  const report: Report = {
    date: new Date().toISOString(),
    quick,
    machine: describeMachine(redisVersion),
    load: { start: loadAtStart, end: loadAverage() },
    scenarios: results,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderMarkdown(report)}\n`);
  progress(`figures written to ${values.out}`);
} finally {
  await server.stop();
}

/** The version the server reports. */
async function serverVersion(url: string): Promise<string> {
  const client = createClient({ url });
  await client.connect();
  try {
    const info = await client.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  } finally {
    await client.close();
  }
}
