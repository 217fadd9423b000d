/**
 * The gateway's own settings and defaults, and the loopback check that
 * decides where it may listen without access control. How `eventbus serve`
 * reads them from flags and the environment lives in `cli/serve-config.ts`.
 */
import { isIP } from "node:net";

/** Tunables of a gateway's HTTP and SSE behaviour. */
export interface GatewaySettings {
  /** Interval between heartbeat comments on every open stream, in milliseconds. */
  readonly heartbeatMs: number;
  /** The `retry:` hint: how long a browser waits before reconnecting, in milliseconds. */
  readonly retryMs: number;
  /** Events buffered for one stream before it is cut off as a slow consumer. */
  readonly streamBuffer: number;
  /** The largest request body accepted, in bytes; larger ones get 413. */
  readonly bodyLimit: number;
}

/** The defaults of {@link GatewaySettings}. */
export const DEFAULT_SETTINGS: GatewaySettings = {
  heartbeatMs: 15_000,
  retryMs: 3_000,
  streamBuffer: 1_000,
  bodyLimit: 1024 * 1024,
};

/** The default address: loopback, reachable from this machine only. */
export const DEFAULT_HOST = "127.0.0.1";

/** The default port. */
export const DEFAULT_PORT = 8080;

/**
 * True for an address only this machine can reach: `localhost`, 127.0.0.0/8,
 * `::1` (or its IPv4-mapped form). Without access control the gateway listens
 * on nothing else.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1" || bare.startsWith("::ffff:127.");
}
