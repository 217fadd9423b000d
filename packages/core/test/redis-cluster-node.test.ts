/**
 * One cluster master's connections (ClusterNode) on a real cluster: one
 * SSUBSCRIBE per slot, and the probe that finds a deaf subscriber.
 */
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { slotOf } from "../src/transports/cluster-topology.js";
import { connectionOptions } from "../src/transports/redis-client.js";
import { ClusterNode, type ClusterNodeHooks } from "../src/transports/redis-cluster-node.js";
import { resolveRedisSettings } from "../src/transports/redis-options.js";
import { waitFor } from "./helpers.js";
import { useRedisCluster } from "./redis-cluster-helpers.js";
import { FAST_REDIS } from "./redis-helpers.js";

const settings = resolveRedisSettings(FAST_REDIS);

describe("redis cluster node", () => {
  const fixture = useRedisCluster();
  const nodes: ClusterNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.close(100)));
  });

  /** The first `count` names `<prefix><n>` in slots `port` serves, `perSlot` of each slot. */
  async function namesOn(port: number, prefix: string, count: number): Promise<string[]> {
    const names: string[] = [];
    for (let index = 0; names.length < count; index++) {
      const name = `${prefix}${index}`;
      if ((await fixture.cluster.ownerOf(slotOf(name))).port === port) names.push(name);
    }
    return names;
  }

  async function startNode(port: number, hooks: Partial<ClusterNodeHooks>): Promise<ClusterNode> {
    const { socket, common } = connectionOptions(settings);
    const node = new ClusterNode(
      { address: { host: "127.0.0.1", port }, settings, probePrefix: "test-probe:" },
      {
        create: (address) => createClient({ ...common, socket: { ...socket, ...address } }),
        wanted: () => [],
        message: () => {},
        moved: () => {},
        suspect: () => {},
        changed: () => {},
        ...hooks,
      },
    );
    nodes.push(node);
    [node.probeChannel] = await namesOn(port, "test-probe:", 1);
    node.start();
    await waitFor(() => node.inStep, { message: "the node in step" });
    return node;
  }

  const aMaster = async () => {
    const master = (await fixture.cluster.nodes()).find((node) => node.role === "master");
    if (master === undefined) throw new Error("no master");
    return master.port;
  };

  it("cluster node - SSUBSCRIBEs one command per slot, and holds each channel once", async () => {
    const port = await aMaster();
    const [first, second] = await namesOn(port, "", 2);
    const channels = [0, 1, 2].flatMap((n) => [`{${first}}:${n}`, `{${second}}:${n}`]);
    await fixture.cluster.command(port, "CONFIG", "RESETSTAT");
    await startNode(port, { wanted: () => channels });
    const stats = String(await fixture.cluster.command(port, "INFO", "commandstats"));
    // Two slot groups of three channels, and the probe channel.
    expect(stats).toMatch(/cmdstat_ssubscribe:calls=3,/);
    for (const channel of channels) {
      const reply = await fixture.cluster.command(port, "PUBSUB", "SHARDNUMSUB", channel);
      expect(reply).toEqual([channel, 1]);
    }
  });

  it("probe - a subscriber that silently lost its probe subscription is found deaf, replaced and subscribed again", async () => {
    const port = await aMaster();
    const suspicions: string[] = [];
    const node = await startNode(port, {
      suspect: (_node, reason) => suspicions.push(reason.message),
    });
    node.probe();
    await waitFor(() => !node.probeInFlight, { message: "the probe's echo" });

    // Deafen it behind the node's back: the server drops the probe's subscription, the node is not told.
    const deafened = node.subscriber.client;
    await deafened?.sUnsubscribe(node.probeChannel);
    node.probe();
    await waitFor(() => suspicions.length === 1, { message: "a probe with no receiver" });
    expect(suspicions[0]).toMatch(/no longer serves the probe's slot/);
    node.probe();
    expect(suspicions[1]).toMatch(/is deaf/);
    expect(node.subscriber.lastError?.message).toMatch(/is deaf/);

    await waitFor(() => node.inStep && node.subscriber.client !== deafened, {
      message: "a new subscriber connection",
    });
    node.probe();
    await waitFor(() => !node.probeInFlight, { message: "the probe's echo on the new connection" });
  });
});
