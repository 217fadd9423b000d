/** A server under test, running in its own process (see `../server-main.ts`). */
export interface RunningServer {
  /** Its base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts one kind of server on the run's Redis. */
export type StartServer = (redisUrl: string) => Promise<RunningServer>;

/** Where the servers listen: loopback, any free port. */
export const HOST = "127.0.0.1";

/** The base URL of a `node:http` server listening on {@link HOST}. */
export function baseUrl(address: ReturnType<import("node:http").Server["address"]>): string {
  if (address === null || typeof address === "string") throw new Error("not listening on TCP");
  return `http://${HOST}:${address.port}`;
}
