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

const event = (type: string, n: number, project?: string) => ({
  type,
  actor_type: "system",
  payload: { n },
  ...(project === undefined ? {} : { project_id: project }),
});

/** `?project=..&agent=..` for the multi-channel stream. */
function channelsQuery(projects: string[], agents: string[], extra = ""): string {
  const params = [...projects.map((id) => `project=${id}`), ...agents.map((id) => `agent=${id}`)];
  return `?${params.join("&")}${extra}`;
}

describe("multi-stream - delivery", () => {
  it("multi-stream - one stream carries a project and its agents, each message naming its channel, in order per channel", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const agents = [uuid(), uuid()];
    const follower = new Follower(
      `${url}/v1/events${channelsQuery([project], agents)}`,
      {},
      {
        multiChannel: true,
      },
    );
    await follower.opened();
    const expected: { channel: string; id: string }[] = [];
    for (let n = 0; n < 4; n++) {
      const targets = [
        [`project:${project}`, `${url}/v1/projects/${project}/events`],
        ...agents.map((agent) => [`agent:${agent}`, `${url}/v1/agents/${agent}/events`]),
      ] as const;
      for (const [channel, path] of targets) {
        const response = await postJson(path, event(EventType.AGENT_MESSAGE, n, project));
        expect(response.status).toBe(202);
        expected.push({ channel, id: (await response.json()).id });
      }
    }
    const events = await follower.received(expected.length);
    const got = events.map((e, i) => ({ channel: follower.channels[i], id: e.id }));
    for (const channel of [`project:${project}`, ...agents.map((a) => `agent:${a}`)]) {
      expect(got.filter((m) => m.channel === channel)).toEqual(
        expected.filter((m) => m.channel === channel),
      );
    }
    // History is on by default: each id is the stream's resume vector, naming the event's channel.
    follower.ids.forEach((id, index) => {
      expect(id.split(",").some((part) => part.startsWith(`${follower.channels[index]}=`))).toBe(
        true,
      );
    });
  });

  it("multi-stream - ?types= filters every channel, and a channel named twice is followed once", async () => {
    const { url, gateway } = await startGateway({ limits: { channelsPerStream: 2 } });
    const [project, agent] = [uuid(), uuid()];
    const follower = new Follower(
      `${url}/v1/events${channelsQuery([project, project.toUpperCase()], [agent], "&types=issue.closed")}`,
      {},
      { multiChannel: true },
    );
    await follower.opened();
    expect(gateway.bus.stats().channels).toBe(2);
    await postJson(`${url}/v1/projects/${project}/events`, event(EventType.ISSUE_CREATED, 1));
    await postJson(`${url}/v1/agents/${agent}/events`, event(EventType.ISSUE_CREATED, 2, project));
    await postJson(`${url}/v1/agents/${agent}/events`, event(EventType.ISSUE_CLOSED, 3, project));
    await postJson(`${url}/v1/projects/${project}/events`, event(EventType.ISSUE_CLOSED, 4));
    const events = await follower.received(2);
    expect(events.map((e) => e.payload.n)).toEqual([3, 4]);
    expect(follower.channels).toEqual([`agent:${agent}`, `project:${project}`]);
  });

  it("multi-stream - leaving releases every channel's subscription and the stream's gauge", async () => {
    const { url, gateway } = await startGateway();
    const stream = new RawStream(`${url}/v1/events${channelsQuery([uuid()], [uuid(), uuid()])}`);
    expect((await stream.started()).statusCode).toBe(200);
    expect(gateway.bus.stats().channels).toBe(3);
    const open = await (await fetch(`${url}/metrics`)).text();
    expect(open).toContain('eventbus_sse_open_streams{kind="multi"} 1');
    stream.request.destroy();
    await waitFor("every channel to be released", () => gateway.bus.stats().channels === 0);
    await waitFor("the gauge to drop", async () =>
      (await (await fetch(`${url}/metrics`)).text()).includes(
        'eventbus_sse_open_streams{kind="multi"} 0',
      ),
    );
  });
});

describe("multi-stream - refusals", () => {
  it("multi-stream - every channel is checked against the token; one not granted refuses the stream", async () => {
    const { url, gateway } = await startGateway({ auth: { secret: SECRET } });
    const [project, agent, otherAgent] = [uuid(), uuid(), uuid()];
    const token = await tokenFor({ projects: [project], agents: [agent] });
    const refused = await fetch(
      `${url}/v1/events${channelsQuery([project], [agent, otherAgent])}&access_token=${token}`,
    );
    expect(refused.status).toBe(403);
    const body = await refused.json();
    expect(body.error).toMatchObject({ code: GatewayErrorCode.FORBIDDEN });
    expect(body.error.message).toContain(otherAgent);
    expect(gateway.bus.stats().channels).toBe(0);

    const anonymous = await fetch(`${url}/v1/events${channelsQuery([project], [])}`);
    expect(anonymous.status).toBe(401);

    const follower = new Follower(
      `${url}/v1/events${channelsQuery([project], [agent])}&access_token=${token}`,
      {},
      { multiChannel: true },
    );
    await follower.opened();
  });

  it.each([
    ["no channel", "?types=issue.created", ["query", "project"]],
    ["too many channels", channelsQuery([uuid(), uuid()], [uuid(), uuid()]), ["query", "project"]],
    [
      "a malformed agent id",
      channelsQuery([uuid()], [uuid(), "not-a-uuid"]),
      ["query", "agent", 1],
    ],
    ["an unknown type", `${channelsQuery([uuid()], [])}&types=issue.lost`, ["query", "types"]],
  ])("multi-stream - %s answers 400 with the parameter in issues", async (_what, query, path) => {
    const { url, gateway } = await startGateway({ limits: { channelsPerStream: 3 } });
    const response = await fetch(`${url}/v1/events${query}`);
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe(GatewayErrorCode.INVALID_REQUEST);
    expect(body.error.issues.map((issue: { path: unknown }) => issue.path)).toEqual([path]);
    expect(gateway.bus.stats().channels).toBe(0);
  });
});
