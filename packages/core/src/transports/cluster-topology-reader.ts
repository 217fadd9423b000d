/**
 * Reading a Redis Cluster's topology (`CLUSTER SLOTS`) from the first node
 * that answers, on a connection the transport already has or on one of its
 * own, closed after.
 */
import {
  addressKey,
  type ClusterTopology,
  type NodeAddress,
  parseClusterSlots,
} from "./cluster-topology.js";
import type { Client } from "./redis-client.js";

/** A node to ask on its connection, if that is up. */
export interface ConnectedNode {
  readonly key: string;
  readonly address: NodeAddress;
  readonly client: Client | undefined;
}

const ignore = (): void => {};

/**
 * The topology as the first node that answers sees it: `connected` nodes
 * whose connection is up first, in their order, then `others` (skipping
 * those already asked) each on a connection made with `connect`.
 * @throws {Error} the last node's error, when none answered.
 */
export async function readTopology(
  connected: Iterable<ConnectedNode>,
  others: Iterable<NodeAddress>,
  connect: (address: NodeAddress) => Client,
): Promise<ClusterTopology> {
  let lastError: unknown;
  const asked = new Set<string>();
  for (const { key, address, client } of connected) {
    if (asked.has(key) || client === undefined) continue;
    asked.add(key);
    try {
      return parseClusterSlots(await client.sendCommand(["CLUSTER", "SLOTS"]), address);
    } catch (error) {
      lastError = error;
    }
  }
  for (const address of others) {
    const key = addressKey(address);
    if (asked.has(key)) continue;
    asked.add(key);
    const client = connect(address);
    client.on("error", ignore);
    try {
      await client.connect();
      return parseClusterSlots(await client.sendCommand(["CLUSTER", "SLOTS"]), address);
    } catch (error) {
      lastError = error;
    } finally {
      client.destroy();
    }
  }
  throw lastError instanceof Error ? lastError : new Error("no cluster node answered");
}
