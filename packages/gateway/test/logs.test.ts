import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createGateway } from "../src/index.js";
import { loggableUrl } from "../src/request-log.js";
import { RawStream, SECRET, startGateway, tokenFor, uuid, waitFor } from "./support.js";

/** Log lines written by a gateway, as one string. */
class CapturedLog {
  text = "";
  readonly stream = {
    write: (line: string): void => {
      this.text += line;
    },
  };
}

/** `text` with each character percent-encoded or not, as `pick` says, in upper or lower case hex. */
function spelled(text: string, pick: readonly number[]): string {
  return [...text]
    .map((char, index) => {
      const choice = pick[index % pick.length] ?? 0;
      if (choice === 0) return char;
      const hex = [...new TextEncoder().encode(char)]
        .map((byte) => `%${byte.toString(16).padStart(2, "0")}`)
        .join("");
      return choice === 1 ? hex : hex.toUpperCase();
    })
    .join("");
}

/** Ways a query can carry a token: as the parameter, in another parameter's value, as a bare key. */
const tokenQuery = (token: string) =>
  fc
    .record({
      keyPick: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 12 }),
      valuePick: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
      separator: fc.constantFrom("&", ";", "&&", "&;"),
      shape: fc.constantFrom("param", "behind-semicolon", "bare-key", "array-key", "twice"),
      before: fc.array(
        fc
          .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
          .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
        { maxLength: 3 },
      ),
      types: fc.option(fc.constantFrom("issue.created", "issue.created,sprint.started"), {
        nil: undefined,
      }),
    })
    .map(({ keyPick, valuePick, separator, shape, before, types }) => {
      const key = spelled("access_token", keyPick);
      const value = spelled(token, valuePick);
      const carrying = {
        param: `${key}=${value}`,
        "behind-semicolon": `x=1;${key}=${value}`,
        "bare-key": value,
        "array-key": `${key}[]=${value}`,
        twice: `${key}=${value}${separator}${key}=${value}`,
      }[shape];
      const parts = [...before, carrying, ...(types === undefined ? [] : [`types=${types}`])];
      return parts.join(separator);
    });

describe("logs - tokens never reach the logs", () => {
  it("logs - no spelling of a query token reaches the log or an error body (fast-check)", async () => {
    const log = new CapturedLog();
    const gateway = createGateway({
      auth: { secret: SECRET },
      logLevel: "trace",
      logStream: log.stream,
    });
    try {
      const project = uuid();
      // A token for another project: a stream it carries is refused (403), not held open.
      const token = await tokenFor({ projects: [uuid()] });
      const signature = token.split(".")[2] ?? token;
      const paths = [`/v1/projects/${project}/events`, `/v1/projects/${project}/nothing`];
      await fc.assert(
        fc.asyncProperty(tokenQuery(token), fc.constantFrom(...paths), async (query, path) => {
          log.text = "";
          const response = await gateway.app.inject({ method: "GET", url: `${path}?${query}` });
          expect(response.statusCode).toBeLessThan(500);
          expect(log.text).toContain(path);
          for (const text of [log.text, response.body]) {
            expect(text).not.toContain(signature);
            expect(text).not.toContain(query);
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      await gateway.close();
    }
  });

  it("logs - a stream opened with ?access%5Ftoken= over HTTP is served, and its log hides the token", async () => {
    const log = new CapturedLog();
    const { url } = await startGateway({
      auth: { secret: SECRET },
      logLevel: "info",
      logStream: log.stream,
    });
    const project = uuid();
    const token = await tokenFor({ projects: [project] });
    const stream = new RawStream(
      `${url}/v1/projects/${project}/events?types=issue.created&access%5Ftoken=${token}`,
    );
    expect((await stream.started()).statusCode).toBe(200);
    await stream.contains("retry:");
    expect(log.text).toContain(
      `"url":"/v1/projects/${project}/events?types=issue.created&access_token=***"`,
    );
    expect(log.text).toContain("stream opened");
    expect(log.text).not.toContain(token.split(".")[2]);
  });

  it("logs - a stream logs under its request's id: opened, completed when the gateway ended it, closed", async () => {
    const log = new CapturedLog();
    const { url, gateway } = await startGateway({ logLevel: "info", logStream: log.stream });
    const lines = () =>
      log.text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const linesOf = (reqId: unknown) => lines().filter((line) => line.reqId === reqId);
    const opened = async (stream: RawStream) => {
      await stream.contains("retry:");
      return lines().findLast((line) => line.msg === "stream opened")?.reqId;
    };
    const left = new RawStream(`${url}/v1/projects/${uuid()}/events`);
    const leftId = await opened(left);
    left.request.destroy();
    await waitFor("the stream the client left to close", () =>
      linesOf(leftId).some((line) => line.msg === "stream closed"),
    );
    const ended = new RawStream(`${url}/v1/projects/${uuid()}/events`);
    const endedId = await opened(ended);
    await gateway.close();
    await ended.finished();
    await waitFor("the stream the gateway ended to close", () =>
      linesOf(endedId).some((line) => line.msg === "stream closed"),
    );
    // As Fastify logs any request: "request completed" once the response has ended, which a
    // client that leaves never lets it do.
    expect(linesOf(leftId).map((line) => line.msg)).toEqual([
      "incoming request",
      "stream opened",
      "stream closed",
    ]);
    expect(linesOf(endedId).map((line) => line.msg)).toEqual([
      "incoming request",
      "stream opened",
      "request completed",
      "stream closed",
    ]);
    const completed = linesOf(endedId)[2];
    expect(completed?.res).toEqual({ statusCode: 200 });
    expect(completed?.responseTime).toBeGreaterThan(0);
    for (const reqId of [leftId, endedId]) {
      expect(linesOf(reqId).at(-1)).toMatchObject({
        channel: expect.any(String),
        reason: "closed",
      });
    }
  });

  it("logs - the logged URL keeps the path, known types and the token's presence only", () => {
    expect(loggableUrl({ url: "/v1/a?x=1;access_token=t", query: { x: "1;access_token=t" } })).toBe(
      "/v1/a",
    );
    expect(
      loggableUrl({
        url: "/v1/a?types=issue.created,nope&access%5Ftoken=t",
        query: { types: "issue.created,nope", access_token: "t" },
      }),
    ).toBe("/v1/a?types=issue.created,***&access_token=***");
    expect(loggableUrl({ url: "/healthz" })).toBe("/healthz");
  });
});
