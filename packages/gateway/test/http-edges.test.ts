import { describe, expect, it } from "vitest";
import { GatewayErrorCode } from "../src/index.js";
import {
  parseRawResponse,
  RawStream,
  rawExchange,
  SECRET,
  startGateway,
  uuid,
  waitFor,
} from "./support.js";

const documentedBody = { error: { code: expect.any(String), message: expect.any(String) } };

describe("http - errors met before a route runs have the documented shape", () => {
  it.each([
    [
      "a path that is not valid percent-encoding",
      "GET /v1/projects/%ZZ/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      400,
      GatewayErrorCode.MALFORMED_REQUEST,
    ],
    [
      "an id longer than any the gateway serves",
      `GET /v1/projects/${"a".repeat(200)}/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      414,
      GatewayErrorCode.URI_TOO_LONG,
    ],
    [
      "headers over the size limit",
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      431,
      GatewayErrorCode.HEADERS_TOO_LARGE,
    ],
    [
      "a URL over the size limit",
      `GET /${"a".repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      431,
      GatewayErrorCode.HEADERS_TOO_LARGE,
    ],
    [
      "a Content-Length shorter than the body",
      `POST /v1/projects/${uuid()}/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"type":"issue.created","actor_type":"system"}`,
      400,
      GatewayErrorCode.MALFORMED_REQUEST,
    ],
    ["bytes that are not HTTP", "HELLO THERE\r\n\r\n", 400, GatewayErrorCode.MALFORMED_REQUEST],
  ])("errors - %s, over a raw socket", async (_what, request, status, code) => {
    const { url } = await startGateway();
    const answer = parseRawResponse(await rawExchange(url, request));
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual(documentedBody);
    expect((answer.body as typeof documentedBody).error.code).toBe(code);
  });

  it("errors - a body cut short of its Content-Length is refused in the documented shape", async () => {
    const { url } = await startGateway();
    const request = `POST /v1/projects/${uuid()}/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"type":"issue.created"}`;
    const answer = parseRawResponse(await rawExchange(url, request, true));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(documentedBody);
  });
});

describe("http - content types", () => {
  const publish = (url: string, headers: Record<string, string>, body?: string) =>
    fetch(`${url}/v1/projects/${uuid()}/events`, {
      method: "POST",
      headers,
      ...(body === undefined ? {} : { body }),
    });
  const event = JSON.stringify({ type: "issue.created", actor_type: "system" });

  it("content type - JSON in another charset than UTF-8 is 415, never read as UTF-8", async () => {
    const { url } = await startGateway();
    for (const charset of ["utf-16", "UTF-16LE", "utf-32", "iso-8859-1", '"latin1"']) {
      const response = await publish(
        url,
        {
          "content-type": `application/json; charset=${charset}`,
        },
        event,
      );
      expect(response.status, charset).toBe(415);
      expect((await response.json()).error.code).toBe(GatewayErrorCode.UNSUPPORTED_MEDIA_TYPE);
    }
    for (const charset of ["utf-8", "UTF-8", "utf8", '"utf-8"']) {
      const response = await publish(
        url,
        {
          "content-type": `application/json; charset=${charset}`,
        },
        event,
      );
      expect(response.status, charset).toBe(202);
    }
  });

  it("content type - no Content-Type is 415, with an empty body or with one", async () => {
    const { url } = await startGateway();
    for (const body of [undefined, "", event]) {
      const response = await publish(url, {}, body);
      expect(response.status, JSON.stringify(body)).toBe(415);
      expect((await response.json()).error.code).toBe(GatewayErrorCode.UNSUPPORTED_MEDIA_TYPE);
    }
    const empty = await publish(url, { "content-type": "text/plain" }, "");
    expect(empty.status).toBe(415);
  });
});

describe("http - the Host header while access control is off", () => {
  const get = (url: string, host: string) =>
    rawExchange(url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`).then(
      parseRawResponse,
    );

  it("host - answers loopback names only, any port: a rebound name gets 403", async () => {
    const { url } = await startGateway();
    for (const host of ["localhost", "localhost:8080", "127.0.0.1:1", "127.8.9.10", "[::1]:8080"]) {
      expect((await get(url, host)).status, host).toBe(200);
    }
    for (const host of [
      "evil.example",
      "evil.example:8080",
      "localhost.evil.example",
      "127.0.0.1.nip.io",
      "user@localhost",
      "10.0.0.1",
    ]) {
      const answer = await get(url, host);
      expect(answer.status, host).toBe(403);
      expect(answer.body).toEqual({
        error: {
          code: GatewayErrorCode.HOST_NOT_ALLOWED,
          message: expect.stringContaining("loopback"),
        },
      });
    }
    // The console and the streams are refused too, not only the API.
    const page = await rawExchange(
      url,
      "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    expect(parseRawResponse(page).status).toBe(403);
  });

  it("host - with access control on, any name is served (tokens guard the data)", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    expect((await get(url, "gateway.example:443")).status).toBe(200);
  });
});

describe("http - the types filter's spellings", () => {
  it("stream - ?types[]= is honoured like ?types=", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const stream = new RawStream(
      `${url}/v1/projects/${project}/events?types[]=issue.closed&types%5B%5D=sprint.started`,
    );
    expect((await stream.started()).statusCode).toBe(200);
    for (const type of ["issue.created", "issue.closed", "agent.message", "sprint.started"]) {
      await fetch(`${url}/v1/projects/${project}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type, actor_type: "system" }),
      });
    }
    await stream.contains("event: sprint.started");
    // Event types have a dot; the stream's own messages (`start`) do not.
    const types = [...stream.text.matchAll(/^event: (.+\..+)$/gm)].map((match) => match[1]);
    expect(types).toEqual(["issue.closed", "sprint.started"]);
  });

  it("stream - a parameter that looks like the filter but is not is refused, not ignored", async () => {
    const { url, gateway } = await startGateway();
    for (const name of ["type", "Types", "types[0]", "type[]"]) {
      const response = await fetch(`${url}/v1/projects/${uuid()}/events?${name}=issue.created`);
      expect(response.status, name).toBe(400);
      expect((await response.json()).error.issues).toEqual([
        { path: ["query", name], message: expect.stringContaining("types=") },
      ]);
    }
    await waitFor("no stream to be left open", () => gateway.bus.stats().channels === 0);
  });
});
