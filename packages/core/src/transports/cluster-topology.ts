/**
 * Which Redis Cluster node serves which channel: the slot of a name (CRC16
 * with hash tags, as Redis computes it) and the masters of the 16,384 slots
 * read from a `CLUSTER SLOTS` reply. Pure, so the rules are tested without a
 * server; the cluster transport refreshes a {@link ClusterTopology} and routes
 * by it.
 */

/** The number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16_384;

/** Where a node listens. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** The key of an address in maps: `host:port`. */
export function addressKey(address: NodeAddress): string {
  return `${address.host}:${address.port}`;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

const crcStep = (crc: number, byte: number): number =>
  ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);

/** CRC16-XMODEM (Redis Cluster's key hash) of the UTF-8 bytes of `text`. */
function crc16(text: string): number {
  let crc = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) {
      // Outside ASCII: hash the UTF-8 encoding (rare for channel names, so no fast path).
      crc = 0;
      for (const byte of Buffer.from(text, "utf8")) crc = crcStep(crc, byte);
      return crc;
    }
    crc = crcStep(crc, unit);
  }
  return crc;
}

/**
 * The hash slot of a key or shard channel name, as Redis computes it: only
 * the part between the first `{` and the next `}` counts when that part is
 * not empty (a hash tag), else the whole name.
 */
export function slotOf(name: string): number {
  const open = name.indexOf("{");
  if (open !== -1) {
    const close = name.indexOf("}", open + 1);
    if (close > open + 1) return crc16(name.slice(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(name) % SLOT_COUNT;
}

/** `channels` grouped by slot: one `SSUBSCRIBE` may name channels of one slot only. */
export function groupBySlot(channels: Iterable<string>): string[][] {
  const groups = new Map<number, string[]>();
  for (const channel of channels) {
    const slot = slotOf(channel);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [channel]);
    else group.push(channel);
  }
  return [...groups.values()];
}

/**
 * The masters of a cluster and the slots each serves, with the replicas (more
 * places to ask for the next topology). Immutable: a refresh makes a new one.
 */
export class ClusterTopology {
  /** Every node named, masters and replicas, by {@link addressKey}. */
  readonly nodes: ReadonlyMap<string, NodeAddress>;
  /** The masters serving at least one slot, by {@link addressKey}. */
  readonly masters: readonly string[];
  readonly #owners: Uint16Array;

  /**
   * @param owners - per slot, 1 + the index in `masters` of its master, or 0 when none serves it.
   */
  constructor(
    nodes: ReadonlyMap<string, NodeAddress>,
    masters: readonly string[],
    owners: Uint16Array,
  ) {
    this.nodes = nodes;
    this.masters = masters;
    this.#owners = owners;
  }

  /** The address key of the master serving `slot`, or `undefined` when none does. */
  ownerOf(slot: number): string | undefined {
    const index = this.#owners[slot] ?? 0;
    return index === 0 ? undefined : this.masters[index - 1];
  }

  /** Whether the master of any slot differs in `other`. */
  differs(other: ClusterTopology): boolean {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (this.ownerOf(slot) !== other.ownerOf(slot)) return true;
    }
    return false;
  }
}

/**
 * Reads a `CLUSTER SLOTS` reply: per range `[first, last, master, ...replicas]`,
 * each node `[host, port, id, ...]`. An empty host means the node that
 * answered (`answeredBy`); a node whose host is unknown (`?`) serves nothing here.
 * @throws {TypeError} the reply is not of that shape, or a slot is out of range.
 */
export function parseClusterSlots(reply: unknown, answeredBy: NodeAddress): ClusterTopology {
  if (!Array.isArray(reply)) throw new TypeError("CLUSTER SLOTS: the reply is not an array");
  const nodes = new Map<string, NodeAddress>();
  const masters: string[] = [];
  const owners = new Uint16Array(SLOT_COUNT);
  for (const range of reply) {
    if (!Array.isArray(range) || range.length < 3) {
      throw new TypeError("CLUSTER SLOTS: a range is not [first, last, master, ...replicas]");
    }
    const [first, last, master, ...replicas] = range as unknown[];
    if (!isSlot(first) || !isSlot(last) || first > last) {
      throw new TypeError(`CLUSTER SLOTS: not a slot range: ${String(first)}-${String(last)}`);
    }
    const owner = readNode(master, answeredBy);
    for (const replica of replicas) {
      const address = readNode(replica, answeredBy);
      if (address !== undefined) nodes.set(addressKey(address), address);
    }
    if (owner === undefined) continue;
    const key = addressKey(owner);
    nodes.set(key, owner);
    let index = masters.indexOf(key);
    if (index === -1) index = masters.push(key) - 1;
    owners.fill(index + 1, first, last + 1);
  }
  return new ClusterTopology(nodes, masters, owners);
}

function isSlot(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < SLOT_COUNT;
}

function readNode(node: unknown, answeredBy: NodeAddress): NodeAddress | undefined {
  if (!Array.isArray(node) || node.length < 2) {
    throw new TypeError("CLUSTER SLOTS: a node is not [host, port, ...]");
  }
  const [host, port] = node as unknown[];
  if (typeof host !== "string") throw new TypeError("CLUSTER SLOTS: a node's host is not a string");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`CLUSTER SLOTS: not a port: ${String(port)}`);
  }
  if (host === "?" || port === 0) return undefined;
  return { host: host === "" ? answeredBy.host : host, port };
}

/** How many probe channel names {@link probeChannelFor} tries: enough for a master of a single slot. */
const PROBE_CHANNEL_TRIES = 200_000;

/**
 * A probe channel of the master `key`: `current` while that master still
 * serves its slot, else `<prefix><n>` for the first `n` whose slot it serves,
 * or `undefined` if none is found (it serves no slot).
 */
export function probeChannelFor(
  topology: ClusterTopology,
  key: string,
  prefix: string,
  current: string | undefined,
): string | undefined {
  if (current !== undefined && topology.ownerOf(slotOf(current)) === key) return current;
  for (let index = 0; index < PROBE_CHANNEL_TRIES; index++) {
    const channel = `${prefix}${index}`;
    if (topology.ownerOf(slotOf(channel)) === key) return channel;
  }
  return undefined;
}
