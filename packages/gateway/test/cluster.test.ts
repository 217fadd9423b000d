import { type RedisCluster, startRedisCluster } from "@eventbus/test-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Follower, postJson, serveCli, startGateway, uuid } from "./support.js";

const eventsOf = (url: string, project: string) => `${url}/v1/projects/${project}/events`;

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("cluster - gateways on one Redis Cluster", () => {
  it("cluster - eventbus serve --url redis+cluster:// and a gateway in process: publish on one, receive on the other, in order", async () => {
    const served = await serveCli(["--url", cluster.url]);
    const { url: inProcess } = await startGateway({ url: cluster.url });
    const projects = [uuid(), uuid(), uuid()];
    const followers = projects.map((project) => new Follower(eventsOf(served.url, project)));
    await Promise.all(followers.map((follower) => follower.opened()));

    const ids = new Map<string, string[]>(projects.map((project) => [project, []]));
    for (let n = 0; n < 6; n++) {
      const project = projects[n % projects.length] ?? "";
      const response = await postJson(eventsOf(inProcess, project), {
        type: "issue.updated",
        actor_type: "system",
        payload: { n },
      });
      expect(response.status).toBe(202);
      ids.get(project)?.push((await response.json()).id);
    }
    for (const [index, project] of projects.entries()) {
      const received = await followers[index]?.received(2);
      expect(received?.map((event) => event.id)).toEqual(ids.get(project));
    }
  });
});
