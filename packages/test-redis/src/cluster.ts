/**
 * A throw-away Redis Cluster: three masters and three replicas of
 * `redis-server` on free ports of 127.0.0.1, created with
 * `redis-cli --cluster create`, and the faults tests inflict on it (kill and
 * restart a node, a graceful failover, a slot moved with its keys).
 */
import { execFile } from "node:child_process";
import { type ClusterNode, parseClusterNodes, parseInfo, slotOwners } from "./cluster-nodes.js";
import { command, type Reply } from "./resp.js";
import { freePort, type RedisServer, startRedisServer } from "./server.js";

export type { ClusterNode } from "./cluster-nodes.js";
export { type Reply, ReplyError } from "./resp.js";

/** How {@link startRedisCluster} starts a cluster. Every field is optional. */
export interface RedisClusterOptions {
  /**
   * `cluster-node-timeout`: how long a node may be unreachable before it is
   * failed and its replica promoted (default 1,000 ms; Redis's own is 15 s).
   */
  readonly nodeTimeoutMs?: number;
  /** How long the start, and each wait for a healthy cluster, may take (default 30 s). */
  readonly timeoutMs?: number;
  /** Extra `redis-server` arguments for every node. */
  readonly args?: readonly string[];
  /** The server executable (default: `$REDIS_SERVER`, else `redis-server` on the `PATH`). */
  readonly binary?: string;
  /** The `redis-cli` executable (default: `$REDIS_CLI`, else `redis-cli` on the `PATH`). */
  readonly cli?: string;
}

/** A running test cluster. Call {@link RedisCluster.stop} when done. */
export interface RedisCluster {
  /** The seed URL of the first node: `redis+cluster://127.0.0.1:<port>`. */
  readonly url: string;
  /** The client ports of the six nodes, in start order (they keep them across restarts). */
  readonly ports: readonly number[];
  /** The current pid of the node on `port`. */
  pid(port: number): number;
  /** Sends one command to the node on `port`. @throws {ReplyError} the node answered with an error. */
  command(port: number, ...args: string[]): Promise<Reply>;
  /** Every node, as the first running node sees them (`CLUSTER NODES`). */
  nodes(): Promise<ClusterNode[]>;
  /** The master serving `slot`, as the first running node sees it. */
  ownerOf(slot: number): Promise<ClusterNode>;
  /** The slot of `key` (`CLUSTER KEYSLOT`). */
  slotOf(key: string): Promise<number>;
  /**
   * Sends `signal` (default `SIGKILL`) to the node on `port` and waits for its
   * exit. Its replica takes over after `nodeTimeoutMs` and an election: wait
   * for that with {@link waitHealthy}.
   */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed node again on its port (it rejoins; nothing of its data survives), then waits until healthy. */
  restart(port: number): Promise<void>;
  /**
   * Kills every node (SIGKILL) and starts them all again on their ports: each
   * keeps its cluster configuration (its `nodes.conf`), so the cluster forms
   * again with the same slots, but no data survives. Waits until healthy.
   */
  restartAll(): Promise<void>;
  /** `CLUSTER FAILOVER` on the replica on `port` (graceful), then waits until it is master everywhere and healthy. */
  failover(replicaPort: number): Promise<void>;
  /**
   * Moves `slot` with its keys to the master on `toPort`: SETSLOT IMPORTING and
   * MIGRATING, MIGRATE of every key, SETSLOT NODE on every master; then waits
   * until every node agrees.
   */
  moveSlot(slot: number, toPort: number): Promise<void>;
  /**
   * Waits until every running node says `cluster_state:ok` with every slot
   * served by a running master, all agree on who serves what, none suspects
   * another running node or sees one as a master without slots (a demoted
   * master not yet a replica), and every running replica is in sync with its master.
   * @throws {Error} with the last reason, after `timeoutMs`.
   */
  waitHealthy(): Promise<void>;
  /** Stops every node (by pid) and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

const SIZE = 6;
const DEFAULT_NODE_TIMEOUT_MS = 1_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const NODE_START_ATTEMPTS = 3;

/**
 * Starts six `redis-server` nodes with `--cluster-enabled yes` (persistence
 * off, a temporary directory each, a free cluster bus port each), joins them
 * with `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`
 * and resolves once the cluster is healthy (see {@link RedisCluster.waitHealthy}).
 *
 * @throws {Error} if a node cannot start, `redis-cli` fails (its output is in
 *   the message) or the cluster is not healthy within `timeoutMs`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = await Promise.allSettled(Array.from({ length: SIZE }, () => startNode(options)));
  const servers = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const cluster = new TestCluster(servers, timeoutMs);
  try {
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    await runCli(options.cli ?? process.env.REDIS_CLI ?? "redis-cli", [
      ...["--cluster", "create", ...servers.map((server) => `127.0.0.1:${server.port}`)],
      ...["--cluster-replicas", "1", "--cluster-yes"],
    ]);
    await cluster.waitHealthy();
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Starts one node; a taken cluster bus port is retried with another. */
async function startNode(options: RedisClusterOptions): Promise<RedisServer> {
  const nodeTimeout = String(options.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisServer({
        ...(options.binary === undefined ? {} : { binary: options.binary }),
        args: [
          ...["--cluster-enabled", "yes", "--cluster-port", String(await freePort())],
          ...["--cluster-node-timeout", nodeTimeout, "--cluster-replica-validity-factor", "0"],
          // A replica syncs at once, not after the default 5 s wait for others to join the transfer.
          ...["--repl-diskless-sync-delay", "0"],
          ...(options.args ?? []),
        ],
      });
    } catch (error) {
      if (attempt === NODE_START_ATTEMPTS || !/in use/i.test(String(error))) throw error;
    }
  }
}

function runCli(cli: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: DEFAULT_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`${cli} not found: install it with \`apt-get install -y redis-tools\``));
      } else reject(new Error(`${cli} ${args.join(" ")} failed: ${stdout}${stderr}`));
    });
  });
}

class TestCluster implements RedisCluster {
  readonly url: string;
  readonly ports: readonly number[];
  readonly #servers: Map<number, RedisServer>;
  readonly #down = new Set<number>();
  readonly #timeoutMs: number;

  constructor(servers: readonly RedisServer[], timeoutMs: number) {
    this.#servers = new Map(servers.map((server) => [server.port, server]));
    this.ports = servers.map((server) => server.port);
    this.url = `redis+cluster://127.0.0.1:${this.ports[0] ?? 0}`;
    this.#timeoutMs = timeoutMs;
  }

  pid(port: number): number {
    return this.#server(port).pid;
  }

  command(port: number, ...args: string[]): Promise<Reply> {
    return command(port, args);
  }

  async nodes(): Promise<ClusterNode[]> {
    return this.#view(this.#running()[0] ?? 0);
  }

  async ownerOf(slot: number): Promise<ClusterNode> {
    const nodes = await this.nodes();
    const owner = nodes.find((node) => node.id === slotOwners(nodes)[slot]);
    if (owner === undefined) throw new Error(`no master serves slot ${slot}`);
    return owner;
  }

  async slotOf(key: string): Promise<number> {
    return Number(await command(this.#running()[0] ?? 0, ["CLUSTER", "KEYSLOT", key]));
  }

  async kill(port: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    this.#down.add(port);
    await this.#server(port).kill(signal);
  }

  async restart(port: number): Promise<void> {
    await this.#server(port).restart();
    this.#down.delete(port);
    await this.waitHealthy();
  }

  async restartAll(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.kill(port)));
    await Promise.all(this.ports.map((port) => this.#server(port).restart()));
    this.#down.clear();
    await this.waitHealthy();
  }

  async failover(replicaPort: number): Promise<void> {
    await command(replicaPort, ["CLUSTER", "FAILOVER"]);
    await this.#until(async () => {
      for (const port of this.#running()) {
        const self = (await this.#view(port)).find((node) => node.port === replicaPort);
        if (self?.role !== "master") return `node ${port} does not see ${replicaPort} as master`;
      }
      return this.#unhealthy();
    });
  }

  async moveSlot(slot: number, toPort: number): Promise<void> {
    const nodes = await this.nodes();
    const source = await this.ownerOf(slot);
    const target = nodes.find((node) => node.port === toPort);
    if (target?.role !== "master") throw new Error(`moveSlot: ${toPort} is not a master`);
    if (source.id === target.id) return;
    const setslot = (port: number, ...args: string[]) =>
      command(port, ["CLUSTER", "SETSLOT", String(slot), ...args]);
    await setslot(target.port, "IMPORTING", source.id);
    await setslot(source.port, "MIGRATING", target.id);
    for (;;) {
      const keys = await command(source.port, ["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]);
      if (!Array.isArray(keys) || keys.length === 0) break;
      const names = keys.map(String);
      const to = ["127.0.0.1", String(target.port), "", "0", "5000"];
      await command(source.port, ["MIGRATE", ...to, "KEYS", ...names]);
    }
    await setslot(target.port, "NODE", target.id);
    await setslot(source.port, "NODE", target.id);
    for (const node of nodes) {
      if (node.role === "master" && node.id !== source.id && node.id !== target.id) {
        if (!this.#down.has(node.port)) await setslot(node.port, "NODE", target.id);
      }
    }
    await this.waitHealthy();
  }

  waitHealthy(): Promise<void> {
    return this.#until(() => this.#unhealthy());
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((server) => server.stop()));
  }

  /** Why the cluster is not healthy yet, or `undefined` if it is. */
  async #unhealthy(): Promise<string | undefined> {
    const running = this.#running();
    let agreed: string | undefined;
    for (const port of running) {
      const info = parseInfo(String(await command(port, ["CLUSTER", "INFO"])));
      if (info.get("cluster_state") !== "ok") return `node ${port}: cluster_state is not ok`;
      if (info.get("cluster_slots_ok") !== "16384") return `node ${port}: not every slot is ok`;
      const nodes = await this.#view(port);
      for (const other of running) {
        const seen = nodes.find((node) => node.port === other);
        if (seen === undefined) return `node ${port} does not know ${other}`;
        if (seen.failing) return `node ${port} suspects ${other}`;
        if (seen.role === "master" && seen.slots.length === 0) {
          return `node ${port} sees ${other} as a master without slots`;
        }
      }
      const servers = new Map(nodes.map((node) => [node.id, node.port]));
      const owners = slotOwners(nodes).map((id) => servers.get(id ?? "") ?? -1);
      if (owners.some((owner) => !running.includes(owner))) {
        return `node ${port}: a slot is not served by a running master`;
      }
      const summary = owners.join(",");
      if (agreed !== undefined && summary !== agreed) return `node ${port} disagrees on slots`;
      agreed = summary;
      const self = nodes.find((node) => node.port === port);
      if (self?.role === "replica") {
        const replication = parseInfo(String(await command(port, ["INFO", "replication"])));
        if (replication.get("master_link_status") !== "up") return `replica ${port} is not in sync`;
      }
    }
    return undefined;
  }

  /** Polls `reason` until it answers `undefined`; fails with the last reason after `timeoutMs`. */
  async #until(reason: () => Promise<string | undefined>): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let last: string | undefined = "not checked";
    while (Date.now() < deadline) {
      try {
        last = await reason();
      } catch (error) {
        last = String(error);
      }
      if (last === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`the cluster was not healthy within ${this.#timeoutMs} ms: ${last}`);
  }

  async #view(port: number): Promise<ClusterNode[]> {
    return parseClusterNodes(String(await command(port, ["CLUSTER", "NODES"])));
  }

  #running(): number[] {
    return this.ports.filter((port) => !this.#down.has(port));
  }

  #server(port: number): RedisServer {
    const server = this.#servers.get(port);
    if (server === undefined) throw new Error(`no node of this cluster listens on ${port}`);
    return server;
  }
}
