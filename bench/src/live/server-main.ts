/**
 * A server under test in a process of its own: `server-main.ts <server> <redis url>`.
 * Answers `start` (its URL), `usage` (memory after full collections, CPU time)
 * and `close` over IPC; see `rpc.ts`.
 */
import { collectGarbage } from "../harness.js";
import { serveRequests } from "./rpc.js";
import { SERVERS } from "./servers/index.js";
import type { RunningServer } from "./servers/types.js";

/** A server process's resource use: memory after full collections, CPU time since it started. */
export interface Usage {
  readonly rss: number;
  readonly heapUsed: number;
  /** User plus system CPU time, in microseconds. */
  readonly cpuMicros: number;
}

const [name, redisUrl] = process.argv.slice(2);
const start = SERVERS[name as keyof typeof SERVERS];
if (start === undefined || redisUrl === undefined) {
  throw new Error(`usage: server-main.ts <${Object.keys(SERVERS).join("|")}> <redis url>`);
}
let server: RunningServer | undefined;
serveRequests({
  start: async () => {
    server = await start(redisUrl);
    return { url: server.url };
  },
  usage: async ({ gc }: { gc: boolean }): Promise<Usage> => {
    if (gc) collectGarbage();
    const { rss, heapUsed } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    return { rss, heapUsed, cpuMicros: user + system };
  },
  close: async () => {
    await server?.close();
    setImmediate(() => process.exit(0));
  },
});
