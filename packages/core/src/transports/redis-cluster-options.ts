/**
 * The Redis Cluster transport's URL and seed nodes, read without loading
 * node-redis (so `createEventBus` can check them up front).
 */
import { UnsupportedUrlError } from "../errors.js";
import type { NodeAddress } from "./cluster-topology.js";
import type { RedisConnectionOptions } from "./redis-options.js";

/** How a `redis+cluster://` bus connects, waits and recovers. Every field is optional. */
export interface RedisClusterConnectionOptions extends RedisConnectionOptions {
  /**
   * More nodes to ask for the cluster's topology, `host:port` each, when the
   * URL's node does not answer (at the start, or once every known node is
   * unreachable). They use the URL's credentials and TLS.
   */
  readonly seeds?: readonly string[];
}

/** Where and how the cluster transport connects, read from its URL and seeds. */
export interface ClusterEndpoints {
  /** The URL's node first, then the `seeds`. */
  readonly seeds: readonly NodeAddress[];
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

const DEFAULT_PORT = 6379;

/**
 * Reads a `redis+cluster://[[user][:password]@]host[:port]` URL
 * (`rediss+cluster://` for TLS) and the extra seeds.
 * @throws {UnsupportedUrlError} another scheme, no host, a path (a cluster has
 *   database 0 only), a query string, or a seed that is not `host:port`.
 */
export function clusterEndpoints(url: string, seeds: readonly string[] = []): ClusterEndpoints {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
  if (parsed.protocol !== "redis+cluster:" && parsed.protocol !== "rediss+cluster:") {
    throw new UnsupportedUrlError(url, "expected redis+cluster:// or rediss+cluster://");
  }
  if (parsed.hostname === "") throw new UnsupportedUrlError(url, "no host");
  if (parsed.pathname !== "" && parsed.pathname !== "/") {
    throw new UnsupportedUrlError(url, "a cluster has no database number: remove the path");
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new UnsupportedUrlError(url, "query strings and fragments are not read");
  }
  const first = { host: unbracket(parsed.hostname), port: Number(parsed.port || DEFAULT_PORT) };
  return {
    seeds: [first, ...seeds.map((seed) => seedAddress(url, seed))],
    tls: parsed.protocol === "rediss+cluster:",
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
  };
}

function seedAddress(url: string, seed: string): NodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(`redis://${seed}`);
  } catch {
    throw new UnsupportedUrlError(url, `the seed ${seed} is not host:port`);
  }
  const plain = parsed.username === "" && parsed.password === "" && parsed.pathname === "";
  if (!plain || parsed.hostname === "" || parsed.search !== "" || parsed.hash !== "") {
    throw new UnsupportedUrlError(url, `the seed ${seed} is not host:port`);
  }
  return { host: unbracket(parsed.hostname), port: Number(parsed.port || DEFAULT_PORT) };
}

/** An IPv6 literal without its URL brackets, as sockets take it. */
function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
