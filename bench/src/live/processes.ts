import type { OpenArgs } from "./loadgen-main.js";
import { type Child, startChild } from "./rpc.js";
import type { Usage } from "./server-main.js";
import type { ServerName } from "./servers/index.js";

const SERVER_MAIN = new URL("./server-main.ts", import.meta.url);
const LOADGEN_MAIN = new URL("./loadgen-main.ts", import.meta.url);

/** A server under test in its own process. */
export interface ServerProcess {
  readonly url: string;
  /** Its memory (after full collections if `gc`) and CPU time so far. */
  usage(gc: boolean): Promise<Usage>;
  stop(): Promise<void>;
}

/** Starts `name` in a process of its own on `redisUrl`; resolves once it listens. */
export async function startServer(name: ServerName, redisUrl: string): Promise<ServerProcess> {
  const child = startChild(SERVER_MAIN, [name, redisUrl], `server ${name}`);
  try {
    const { url } = await child.request<{ url: string }>("start");
    return {
      url,
      usage: (gc) => child.request<Usage>("usage", { gc }),
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Starts a load generator process and opens its clients; see `loadgen-main.ts`. */
export async function startLoadGenerator(args: OpenArgs): Promise<Child> {
  const child = startChild(LOADGEN_MAIN, [], "load generator");
  try {
    await child.request("open", args);
    return child;
  } catch (error) {
    await child.stop();
    throw error;
  }
}
