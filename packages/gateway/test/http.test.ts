import { readFileSync } from "node:fs";
import { decodeEvent, EventBus, EventType } from "@eventbus/core";
import { SignJWT } from "jose";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createGateway,
  type Gateway,
  GatewayErrorCode,
  type GatewayOptions,
} from "../src/index.js";
import { SECRET, tokenFor, uuid } from "./support.js";

const projectA = uuid();
const projectB = uuid();
const agent = uuid();

/** A gateway that is never listened on: requests go through `inject`. */
function gatewayFor(options: GatewayOptions = {}): Gateway {
  const gateway = createGateway({ logLevel: "silent", ...options });
  onTestFinished(() => gateway.close());
  return gateway;
}

function post(gateway: Gateway, path: string, body: unknown, headers: Record<string, string> = {}) {
  return gateway.app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/json", ...headers },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const issueCreated = { type: EventType.ISSUE_CREATED, actor_type: "system", payload: { n: 1 } };

describe("http - publish to a project", () => {
  it("publish - 202 with the published event, id, timestamp and payload filled, delivered on the bus", async () => {
    const gateway = gatewayFor();
    const sub = gateway.bus.subscribe([gateway.bus.getProjectChannel(projectA)]);
    await sub.ready;
    const before = Date.now();
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      type: EventType.SPRINT_STARTED,
      actor_type: "system",
    });
    expect(response.statusCode).toBe(202);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    const published = decodeEvent(response.body);
    expect(published).toMatchObject({
      type: "sprint.started",
      project_id: projectA,
      actor_id: null,
      payload: {},
    });
    expect(published.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(published.timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const { value } = await sub.next();
    expect(value).toEqual(published);
  });

  it("publish - keeps the id, timestamp and actor the body gives", async () => {
    const gateway = gatewayFor();
    const actor = uuid();
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      ...issueCreated,
      id: "evt-42",
      timestamp: "2025-12-29T23:48:23.123456+00:00",
      actor_type: "agent",
      actor_id: actor,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      id: "evt-42",
      timestamp: "2025-12-29T23:48:23.123Z",
      actor_type: "agent",
      actor_id: actor,
    });
  });

  it("publish - refuses a body naming another project", async () => {
    const gateway = gatewayFor();
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      ...issueCreated,
      project_id: projectB,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe("EVENTBUS_CHANNEL_MISMATCH");
  });

  it("publish - 400 with the issue for a malformed project id in the path", async () => {
    const gateway = gatewayFor();
    const response = await post(gateway, "/v1/projects/not-a-uuid/events", issueCreated);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: {
        code: GatewayErrorCode.INVALID_REQUEST,
        message: "invalid request: params.projectId: must be a UUID",
        issues: [{ path: ["params", "projectId"], message: "must be a UUID" }],
      },
    });
  });

  it("publish - 400 listing each invalid field: unknown type, bad actor, bad payload", async () => {
    const gateway = gatewayFor();
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      type: "issue.exploded",
      actor_type: "robot",
      actor_id: "nobody",
      payload: [1, 2],
    });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error.code).toBe("EVENTBUS_VALIDATION");
    expect(body.error.issues.map((issue: { path: string[] }) => issue.path.join("."))).toEqual(
      expect.arrayContaining(["type", "actor_type", "actor_id", "payload"]),
    );
    expect(JSON.stringify(body.error.issues)).toContain("issue.exploded");
  });

  it("publish - 400 for a body that is JSON but not an object", async () => {
    const gateway = gatewayFor();
    const response = await post(gateway, `/v1/projects/${projectA}/events`, [issueCreated]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: "EVENTBUS_VALIDATION",
      issues: [{ path: [], message: "must be a JSON object" }],
    });
  });

  it("publish - 400 for malformed JSON and for an empty JSON body", async () => {
    const gateway = gatewayFor();
    const malformed = await post(gateway, `/v1/projects/${projectA}/events`, '{"type":');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe(GatewayErrorCode.MALFORMED_BODY);
    const empty = await post(gateway, `/v1/projects/${projectA}/events`, "");
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe(GatewayErrorCode.MALFORMED_BODY);
  });

  it("publish - 415 for a body that is not JSON", async () => {
    const gateway = gatewayFor();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const response = await gateway.app.inject({
        method: "POST",
        url: `/v1/projects/${projectA}/events`,
        headers: { "content-type": type },
        payload: "type=issue.created",
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.json().error.code).toBe(GatewayErrorCode.UNSUPPORTED_MEDIA_TYPE);
    }
  });

  it("publish - 413 for a body over the size bound", async () => {
    const gateway = gatewayFor({ bodyLimit: 1024 });
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      ...issueCreated,
      payload: { text: "x".repeat(2048) },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe(GatewayErrorCode.BODY_TOO_LARGE);
  });

  it("publish - 413 for an event over the bus's bound, even within the body limit", async () => {
    const bus = new EventBus({ maxEventBytes: 512 });
    onTestFinished(() => bus.close());
    const gateway = gatewayFor({ bus });
    const response = await post(gateway, `/v1/projects/${projectA}/events`, {
      ...issueCreated,
      payload: { text: "x".repeat(1024) },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe("EVENTBUS_EVENT_TOO_LARGE");
  });
});

describe("http - publish to an agent", () => {
  it("publish - the agent route publishes on the agent's channel; the body names the project", async () => {
    const gateway = gatewayFor();
    const sub = gateway.bus.subscribe([gateway.bus.getAgentChannel(agent)]);
    await sub.ready;
    const response = await post(gateway, `/v1/agents/${agent}/events`, {
      type: EventType.AGENT_MESSAGE,
      project_id: projectA,
      actor_type: "agent",
      actor_id: agent,
      payload: { text: "hello" },
    });
    expect(response.statusCode).toBe(202);
    const { value } = await sub.next();
    expect(value).toMatchObject({ type: "agent.message", project_id: projectA, actor_id: agent });
  });

  it("publish - the agent route refuses a body without a project and a malformed agent id", async () => {
    const gateway = gatewayFor();
    const noProject = await post(gateway, `/v1/agents/${agent}/events`, issueCreated);
    expect(noProject.statusCode).toBe(400);
    expect(noProject.json().error.issues).toEqual([
      expect.objectContaining({ path: ["project_id"] }),
    ]);
    const badAgent = await post(gateway, "/v1/agents/123/events", {
      ...issueCreated,
      project_id: projectA,
    });
    expect(badAgent.statusCode).toBe(400);
    expect(badAgent.json().error.issues).toEqual([
      { path: ["params", "agentId"], message: "must be a UUID" },
    ]);
  });
});

describe("http - access control", () => {
  const secured = () => gatewayFor({ auth: { secret: SECRET } });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it("auth - publishing needs a token: 401 without one, with garbage, with another secret", async () => {
    const gateway = secured();
    const path = `/v1/projects/${projectA}/events`;
    const other = await new SignJWT({ eventbus: { projects: [projectA], publish: true } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(`${SECRET}-but-another`));
    for (const headers of [{}, bearer("garbage"), bearer(other), { authorization: "Basic eDp5" }]) {
      const response = await post(gateway, path, issueCreated, headers);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe(GatewayErrorCode.UNAUTHORIZED);
    }
  });

  it("auth - an expired token gets 401 with its own code", async () => {
    const gateway = secured();
    const expired = await new SignJWT({ eventbus: { projects: [projectA], publish: true } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
      .sign(new TextEncoder().encode(SECRET));
    const response = await post(
      gateway,
      `/v1/projects/${projectA}/events`,
      issueCreated,
      bearer(expired),
    );
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe(GatewayErrorCode.TOKEN_EXPIRED);
  });

  it("auth - 401 comes before the body is read: no 413 or 415 for anonymous requests", async () => {
    const gateway = gatewayFor({ auth: { secret: SECRET }, bodyLimit: 16 });
    const response = await gateway.app.inject({
      method: "POST",
      url: `/v1/projects/${projectA}/events`,
      headers: { "content-type": "text/plain" },
      payload: "x".repeat(64),
    });
    expect(response.statusCode).toBe(401);
  });

  it("auth - publishing with a token in the query or a cookie is refused (header only)", async () => {
    const gateway = secured();
    const token = await tokenFor({ projects: [projectA], publish: true });
    const inQuery = await post(
      gateway,
      `/v1/projects/${projectA}/events?access_token=${token}`,
      issueCreated,
    );
    expect(inQuery.statusCode).toBe(401);
    const inCookie = await post(gateway, `/v1/projects/${projectA}/events`, issueCreated, {
      cookie: `eventbus_token=${token}`,
    });
    expect(inCookie.statusCode).toBe(401);
  });

  it("auth - 403 outside the token's scope: another project, read-only, another agent's project", async () => {
    const gateway = secured();
    const writerA = await tokenFor({ projects: [projectA], agents: [agent], publish: true });
    const readerA = await tokenFor({ projects: [projectA] });
    const cases = [
      [`/v1/projects/${projectB}/events`, issueCreated, writerA],
      [`/v1/projects/${projectA}/events`, issueCreated, readerA],
      [`/v1/agents/${uuid()}/events`, { ...issueCreated, project_id: projectA }, writerA],
      [`/v1/agents/${agent}/events`, { ...issueCreated, project_id: projectB }, writerA],
    ] as const;
    for (const [path, body, token] of cases) {
      const response = await post(gateway, path, body, bearer(token));
      expect(response.statusCode, path).toBe(403);
      expect(response.json().error.code).toBe(GatewayErrorCode.FORBIDDEN);
    }
    const allowed = await post(
      gateway,
      `/v1/agents/${agent}/events`,
      { ...issueCreated, project_id: projectA },
      bearer(writerA),
    );
    expect(allowed.statusCode).toBe(202);
  });

  it("auth - stream routes refuse before opening: 401, 403, a bad id and an unknown type", async () => {
    const gateway = secured();
    const readerA = await tokenFor({ projects: [projectA] });
    const get = (url: string) => gateway.app.inject({ method: "GET", url });
    expect((await get(`/v1/projects/${projectA}/events`)).statusCode).toBe(401);
    const outOfScope = await get(`/v1/projects/${projectB}/events?access_token=${readerA}`);
    expect(outOfScope.statusCode).toBe(403);
    expect(outOfScope.json().error.message).toContain(projectB);
    const agentStream = await get(`/v1/agents/${agent}/events?access_token=${readerA}`);
    expect(agentStream.statusCode).toBe(403);
    const badId = await get(`/v1/projects/nope/events?access_token=${readerA}`);
    expect(badId.statusCode).toBe(400);
    const badType = await get(
      `/v1/projects/${projectA}/events?access_token=${readerA}&types=issue.created,issue.lost`,
    );
    expect(badType.statusCode).toBe(400);
    expect(badType.json().error.issues).toEqual([
      { path: ["query", "types"], message: expect.stringContaining('"issue.lost"') },
    ]);
  });
});

describe("http - health, readiness, metrics, errors", () => {
  it("health - /healthz answers; /readyz reports the transport, 503 once the bus is closed", async () => {
    const bus = new EventBus();
    const gateway = gatewayFor({ bus, auth: { secret: SECRET } });
    expect((await gateway.app.inject("/healthz")).json()).toEqual({ status: "ok" });
    await bus.subscribe([bus.getProjectChannel(projectA)]).ready;
    const ready = await gateway.app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    await bus.close();
    const notReady = await gateway.app.inject("/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().error.code).toBe(GatewayErrorCode.NOT_READY);
  });

  it("metrics - Prometheus text with publish, delivery, stream, drop, malformed and reconnect counters", async () => {
    const gateway = gatewayFor();
    await post(gateway, `/v1/projects/${projectA}/events`, issueCreated);
    const response = await gateway.app.inject("/metrics");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const line of [
      "eventbus_events_published_total 1",
      "eventbus_events_delivered_total 0",
      "eventbus_sse_events_sent_total 0",
      "eventbus_sse_events_dropped_total 0",
      "eventbus_slow_consumers_total 0",
      "eventbus_malformed_messages_total 0",
      "eventbus_transport_reconnects_total 0",
      "eventbus_transport_disconnects_total 0",
      "eventbus_bus_channels 0",
      "eventbus_http_connections 0",
      "# TYPE eventbus_sse_open_streams gauge",
      "process_cpu_user_seconds_total",
    ]) {
      expect(response.body).toContain(line);
    }
  });

  it("stream - HEAD on a stream route opens no stream", async () => {
    const gateway = gatewayFor();
    const response = await gateway.app.inject({
      method: "HEAD",
      url: `/v1/projects/${projectA}/events`,
    });
    expect(response.statusCode).toBe(404);
    expect(gateway.bus.stats().channels).toBe(0);
  });

  it("errors - an unknown route gets 404 in the error format", async () => {
    const gateway = gatewayFor();
    const response = await gateway.app.inject("/v2/nothing?access_token=secret-value");
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe(GatewayErrorCode.NOT_FOUND);
    expect(response.json().error.message).not.toContain("secret-value");
  });

  it("errors - every gateway error code is documented in docs/gateway.md, and only those", () => {
    const doc = readFileSync(new URL("../../../docs/gateway.md", import.meta.url), "utf8");
    const documented = new Set(doc.match(/\bGATEWAY_[A-Z_]+\b/g));
    expect([...documented].sort()).toEqual(Object.values(GatewayErrorCode).sort());
  });
});
