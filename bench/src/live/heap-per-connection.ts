/**
 * What one open, idle connection holds on a server's heap, by kind of object:
 * `node --expose-gc --import tsx src/live/heap-per-connection.ts <server> [clients]`
 * (servers: gateway, socketio, raw-sse). Runs the server in this process on a
 * redis-server of its own, opens the clients in a load generator process,
 * and diffs two heap snapshots (before and after, each after full
 * collections), printing self size and count per connection for each
 * constructor or kind. A profiling tool, not a scenario.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { startRedisServer } from "@eventbus/test-redis";
import { collectGarbage } from "../harness.js";
import { LIVE, type LiveContender } from "./contenders.js";
import { startLoadGenerator } from "./processes.js";
import { SERVERS } from "./servers/index.js";

/** Self size and count of the objects of each kind in a heap snapshot. */
function kinds(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields.length;
  const types = snapshot.snapshot.meta.node_types[0];
  const result = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += fields) {
    const type = types[snapshot.nodes[i] as number] ?? "?";
    const name = snapshot.strings[snapshot.nodes[i + 1] as number] ?? "";
    const key =
      type === "object" || type === "closure" ? `${type} ${name}` : `${type} ${name.slice(0, 30)}`;
    const entry = result.get(type === "string" || type === "concatenated string" ? type : key) ?? {
      count: 0,
      bytes: 0,
    };
    entry.count++;
    entry.bytes += snapshot.nodes[i + 3] as number;
    result.set(type === "string" || type === "concatenated string" ? type : key, entry);
  }
  return result;
}

function snapshot(name: string): string {
  collectGarbage();
  return writeHeapSnapshot(join(tmpdir(), `eventbus-heap-${process.pid}-${name}.heapsnapshot`));
}

const [serverName = "gateway", clientsArg = "2000"] = process.argv.slice(2);
const contender = Object.values(LIVE).find((c: LiveContender) => c.server === serverName);
if (contender === undefined || globalThis.gc === undefined) {
  throw new Error(
    "usage: node --expose-gc --import tsx heap-per-connection.ts <gateway|socketio|raw-sse> [clients]",
  );
}
const clients = Number(clientsArg);
const redis = await startRedisServer();
const server = await SERVERS[contender.server](redis.url);
const open = (count: number) =>
  startLoadGenerator({
    client: contender.client,
    publisher: contender.publisher,
    serverUrl: server.url,
    redisUrl: redis.url,
    clients: Array.from({ length: count }, () => project),
    bytes: 300,
    burstEvents: 0,
    pacedEvents: 0,
  });
const project = randomUUID();
// One connection first, so what the server builds on first use is in the baseline.
await (await open(1)).stop();
const before = snapshot("before");
const loadgen = await open(clients);
const after = snapshot("after");
try {
  const was = kinds(before);
  const rows = [...kinds(after)].map(([kind, { count, bytes }]) => {
    const old = was.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: (count - old.count) / clients, bytes: (bytes - old.bytes) / clients };
  });
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  console.log(`${serverName}: ${clients} open connections, ${Math.round(total)} B of heap each`);
  for (const row of rows.sort((a, b) => b.bytes - a.bytes).slice(0, 40)) {
    if (row.bytes < 16) break;
    console.log(
      `${row.bytes.toFixed(0).padStart(6)} B ${row.count.toFixed(2).padStart(6)} each  ${row.kind}`,
    );
  }
} finally {
  rmSync(before);
  rmSync(after);
  await loadgen.stop();
  await server.close();
  await redis.stop();
}
