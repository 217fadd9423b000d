import { request } from "node:http";
import { EventType } from "@eventbus/core";
import { describe, expect, it } from "vitest";
import { GatewayErrorCode } from "../src/index.js";
import {
  Follower,
  postJson,
  RawStream,
  SECRET,
  startGateway,
  tokenFor,
  uuid,
  waitFor,
} from "./support.js";

const issueCreated = { type: EventType.ISSUE_CREATED, actor_type: "system" };

/** POSTs an event from a given loopback address, so tests can be two clients without auth. */
function postFrom(
  localAddress: string,
  url: string,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", localAddress, headers: { "content-type": "application/json" } },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers }),
        );
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(issueCreated));
  });
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe("limits - publish rate", () => {
  it("limits - a token past its publish rate gets 429 with Retry-After; other tokens and streams go on; counted in /metrics", async () => {
    const { url } = await startGateway({
      auth: { secret: SECRET },
      limits: { publishRate: 3, publishRateWindowMs: 60_000 },
    });
    const project = uuid();
    const path = `${url}/v1/projects/${project}/events`;
    const first = {
      authorization: `Bearer ${await tokenFor({ projects: [project], publish: true })}`,
    };
    const second = {
      authorization: `Bearer ${await tokenFor({ projects: [project], publish: true })}`,
    };

    for (let n = 0; n < 3; n++)
      expect((await postJson(path, issueCreated, first)).status).toBe(202);
    const limited = await postJson(path, issueCreated, first);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await limited.json()).error.code).toBe(GatewayErrorCode.RATE_LIMITED);

    expect((await postJson(path, issueCreated, second)).status).toBe(202);
    // Reading is not rate-limited.
    for (let n = 0; n < 4; n++) {
      const follower = new Follower(path, first);
      await follower.opened();
      follower.source.close();
    }
    expect(await metricsOf(url)).toContain("eventbus_publish_rate_limited_total 1");
  });

  it("limits - without access control the publish rate is per address, and a window later publishing resumes", async () => {
    const { url } = await startGateway({ limits: { publishRate: 2, publishRateWindowMs: 1_500 } });
    const path = `${url}/v1/projects/${uuid()}/events`;
    expect((await postFrom("127.0.0.1", path)).status).toBe(202);
    expect((await postFrom("127.0.0.1", path)).status).toBe(202);
    const limited = await postFrom("127.0.0.1", path);
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect((await postFrom("127.0.0.2", path)).status).toBe(202);
    await waitFor(
      "the window to pass",
      async () => (await postFrom("127.0.0.1", path)).status === 202,
    );
  });
});

describe("limits - open streams per client", () => {
  it("limits - a token holding its quota of streams is refused 429; closing one frees a place; counted in /metrics", async () => {
    const { url } = await startGateway({
      auth: { secret: SECRET },
      limits: { streamsPerClient: 2 },
    });
    const [project, agent] = [uuid(), uuid()];
    const token = await tokenFor({ projects: [project], agents: [agent] });
    const other = await tokenFor({ projects: [project] });
    const single = new RawStream(`${url}/v1/projects/${project}/events?access_token=${token}`);
    const multi = new RawStream(
      `${url}/v1/events?project=${project}&agent=${agent}&access_token=${token}`,
    );
    expect((await single.started()).statusCode).toBe(200);
    expect((await multi.started()).statusCode).toBe(200);

    const refused = await fetch(`${url}/v1/agents/${agent}/events?access_token=${token}`);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe(GatewayErrorCode.TOO_MANY_STREAMS);
    const byOther = new RawStream(`${url}/v1/projects/${project}/events?access_token=${other}`);
    expect((await byOther.started()).statusCode).toBe(200);
    const metrics = await metricsOf(url);
    expect(metrics).toContain("eventbus_sse_streams_refused_total 1");
    expect(metrics).toContain("eventbus_sse_stream_clients 2");

    single.request.destroy();
    await waitFor("the closed stream's place to be free", async () => {
      const again = new RawStream(`${url}/v1/agents/${agent}/events?access_token=${token}`);
      return (await again.started()).statusCode === 200;
    });
  });

  it("limits - once every stream has closed, no client is held", async () => {
    const { url } = await startGateway({ limits: { streamsPerClient: 1 } });
    for (let n = 0; n < 5; n++) {
      const stream = new RawStream(`${url}/v1/projects/${uuid()}/events`);
      expect((await stream.started()).statusCode).toBe(200);
      stream.request.destroy();
      await waitFor("the stream's client to leave", async () =>
        (await metricsOf(url)).includes("eventbus_sse_stream_clients 0"),
      );
    }
    expect(await metricsOf(url)).toContain("eventbus_sse_streams_refused_total 0");
  });
});
