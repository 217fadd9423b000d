import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterNodes, parseInfo, slotOwners } from "../src/cluster-nodes.js";
import { type RedisCluster, ReplyError, startRedisCluster } from "../src/index.js";

const NODES = [
  "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected",
  "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922",
  "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461-<-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]",
  "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 0 1426238318243 3 connected 10923-16383 42",
].join("\n");

describe("cluster views", () => {
  it("cluster - CLUSTER NODES lines: role, master, slot ranges and single slots, failure flags", () => {
    const nodes = parseClusterNodes(NODES);
    expect(nodes.map((node) => [node.port, node.role, node.failing])).toEqual([
      [30004, "replica", false],
      [30002, "master", false],
      [30001, "master", false],
      [30003, "master", true],
    ]);
    expect(nodes[0]?.masterId).toBe("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca");
    expect(nodes[2]?.slots).toEqual([[0, 5460]]);
    expect(nodes[3]?.slots).toEqual([
      [10923, 16383],
      [42, 42],
    ]);
    const owners = slotOwners(nodes);
    expect([owners[0], owners[5461], owners[42], owners[16383]]).toEqual([
      nodes[2]?.id,
      nodes[1]?.id,
      nodes[3]?.id,
      nodes[3]?.id,
    ]);
  });

  it("cluster - INFO fields, without section headers", () => {
    const info = parseInfo("# Cluster\r\ncluster_state:ok\r\ncluster_slots_ok:16384\r\n");
    expect([...info]).toEqual([
      ["cluster_state", "ok"],
      ["cluster_slots_ok", "16384"],
    ]);
  });
});

describe("startRedisCluster", () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const masters = async () => (await cluster.nodes()).filter((node) => node.role === "master");

  it("cluster - three masters and three replicas serve every slot, state ok everywhere", async () => {
    expect(cluster.url).toBe(`redis+cluster://127.0.0.1:${cluster.ports[0]}`);
    expect(cluster.ports).not.toContain(6379);
    const nodes = await cluster.nodes();
    expect(nodes).toHaveLength(6);
    expect(nodes.filter((node) => node.role === "replica")).toHaveLength(3);
    expect(new Set(slotOwners(nodes)).size).toBe(3);
    for (const port of cluster.ports) {
      expect(String(await cluster.command(port, "CLUSTER", "INFO"))).toContain("cluster_state:ok");
    }
  });

  it("cluster - a replica fails over gracefully and becomes master everywhere", async () => {
    const replica = (await cluster.nodes()).find((node) => node.role === "replica");
    if (replica === undefined) throw new Error("no replica");
    await cluster.failover(replica.port);
    const promoted = (await cluster.nodes()).find((node) => node.id === replica.id);
    expect(promoted?.role).toBe("master");
    expect(await masters()).toHaveLength(3);
  });

  it("cluster - a slot moves to another master with its keys", async () => {
    const slot = await cluster.slotOf("{moving}:key");
    const source = await cluster.ownerOf(slot);
    const target = (await masters()).find((node) => node.id !== source.id);
    if (target === undefined) throw new Error("no other master");
    await cluster.command(source.port, "SET", "{moving}:key", "kept");
    await cluster.moveSlot(slot, target.port);
    expect((await cluster.ownerOf(slot)).port).toBe(target.port);
    expect(await cluster.command(target.port, "GET", "{moving}:key")).toBe("kept");
    await expect(cluster.command(source.port, "GET", "{moving}:key")).rejects.toThrow(ReplyError);
  });

  it("cluster - a master killed is replaced by its replica; restarted, it rejoins as a replica", async () => {
    const victim = (await masters())[0];
    if (victim === undefined) throw new Error("no master");
    const pid = cluster.pid(victim.port);
    await cluster.kill(victim.port);
    expect(() => process.kill(pid, 0)).toThrow();
    await cluster.waitHealthy();
    const owners = new Set(slotOwners(await cluster.nodes()));
    expect(owners.has(victim.id)).toBe(false);
    expect(owners.size).toBe(3);
    await cluster.restart(victim.port);
    const back = (await cluster.nodes()).find((node) => node.id === victim.id);
    expect(back?.role).toBe("replica");
  });

  it("cluster - the whole cluster restarted forms again with the same slots, without data", async () => {
    const owners = slotOwners(await cluster.nodes());
    const pids = cluster.ports.map((port) => cluster.pid(port));
    const slot = await cluster.slotOf("{kept}:key");
    await cluster.command((await cluster.ownerOf(slot)).port, "SET", "{kept}:key", "v");
    await cluster.restartAll();
    for (const [index, port] of cluster.ports.entries()) {
      expect(cluster.pid(port)).not.toBe(pids[index]);
    }
    expect(slotOwners(await cluster.nodes())).toEqual(owners);
    expect(await cluster.command((await cluster.ownerOf(slot)).port, "GET", "{kept}:key")).toBe(
      null,
    );
  });

  it("cluster - stop ends every node by pid", async () => {
    const pids = cluster.ports.map((port) => cluster.pid(port));
    await cluster.stop();
    await cluster.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
