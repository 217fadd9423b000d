/**
 * Reading a cluster node's own view: `CLUSTER NODES` lines and `CLUSTER INFO`
 * fields. Pure functions, so the fixture's waits stay short and testable.
 */

/** One node as another node sees it (a line of `CLUSTER NODES`). */
export interface ClusterNode {
  /** The node's id (40 hex digits). */
  readonly id: string;
  /** Its client port on 127.0.0.1. */
  readonly port: number;
  readonly role: "master" | "replica";
  /** The id of its master, for a replica. */
  readonly masterId: string | undefined;
  /** The slot ranges it serves, `[first, last]` inclusive (a master's only). */
  readonly slots: readonly (readonly [number, number])[];
  /** Flagged `fail` or `fail?` (suspected) by the node that answered. */
  readonly failing: boolean;
}

/** Parses a `CLUSTER NODES` reply (migration markers such as `[93->-id]` are skipped). */
export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const [id, address, flagText, master, , , , , ...slotFields] = fields;
    if (id === undefined || address === undefined || flagText === undefined) continue;
    if (master === undefined) continue;
    const port = Number(address.split("@")[0]?.split(":").at(-1));
    const flags = new Set(flagText.split(","));
    const slots: [number, number][] = [];
    for (const field of slotFields) {
      if (field.startsWith("[")) continue;
      const [first, last = first] = field.split("-").map(Number);
      if (first !== undefined && last !== undefined) slots.push([first, last]);
    }
    nodes.push({
      id,
      port,
      role: flags.has("master") ? "master" : "replica",
      masterId: master === "-" ? undefined : master,
      slots,
      failing: flags.has("fail") || flags.has("fail?"),
    });
  }
  return nodes;
}

/** The `key:value` fields of `CLUSTER INFO` (or `INFO`). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** The id of the node serving each of the 16,384 slots in `nodes`, `undefined` where none does. */
export function slotOwners(nodes: readonly ClusterNode[]): (string | undefined)[] {
  const owners = new Array<string | undefined>(16_384).fill(undefined);
  for (const node of nodes) {
    if (node.role !== "master") continue;
    for (const [first, last] of node.slots) owners.fill(node.id, first, last + 1);
  }
  return owners;
}
