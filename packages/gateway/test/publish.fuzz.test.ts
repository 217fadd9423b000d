/**
 * The publish routes fed generated requests through `inject()`: event-shaped
 * bodies with hostile fields (deep, wide, prototype keys, lone surrogates,
 * numbers beyond double range), any JSON, any text, several content types and
 * path ids. Every answer is 202 with the published event, or a documented 4xx
 * in the documented body shape; never a 5xx.
 */

import * as core from "@eventbus/core";
import { decodeEvent, ErrorCode, MAX_PAYLOAD_DEPTH } from "@eventbus/core";
import {
  anyJsonText,
  anyString,
  eventText,
  sameJsonNumber,
  throughUtf8,
} from "@eventbus/test-fuzz";
import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";
import { createGateway, GatewayErrorCode } from "../src/index.js";
import { uuid } from "./support.js";

const project = uuid();
const agent = uuid();

expect.addEqualityTesters([sameJsonNumber]);

/** Every documented code: the gateway's and the core's (tests keep both lists equal to the docs). */
const DOCUMENTED_CODES: ReadonlySet<string> = new Set([
  ...Object.values(GatewayErrorCode),
  ...Object.values(ErrorCode),
]);

const bodies = fc.oneof(
  {
    weight: 8,
    arbitrary: eventText(core, [project]),
  },
  { weight: 1, arbitrary: anyJsonText(MAX_PAYLOAD_DEPTH) },
  { weight: 1, arbitrary: anyString(200) },
);

const paths = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`/v1/projects/${project}/events`) },
  { weight: 2, arbitrary: fc.constant(`/v1/agents/${agent}/events`) },
  {
    weight: 1,
    arbitrary: anyString(40).map(
      (id) => `/v1/projects/${encodeURIComponent(throughUtf8(id))}/events`,
    ),
  },
);

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    "application/json; charset=utf-8",
    "application/JSON",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=utf-16",
  ),
);

/** The payload a body that parses as an object asks for, as the gateway reads the body (UTF-8). */
function requestedPayload(body: string): unknown {
  try {
    return (JSON.parse(throughUtf8(body)) as { payload?: unknown }).payload;
  } catch {
    return undefined;
  }
}

describe("publish fuzz - any request", () => {
  it("publish fuzz - answers 202 with the event, or a documented 4xx with {error: {code, message}}; never 5xx", async () => {
    const gateway = createGateway({ logLevel: "silent" });
    onTestFinished(() => gateway.close());
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(bodies, paths, contentTypes, async (body, url, contentType) => {
        const response = await gateway.app.inject({
          method: "POST",
          url,
          headers: { "content-type": contentType },
          payload: body,
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 202) {
          const published = decodeEvent(response.body);
          const payload = requestedPayload(body);
          if (payload !== undefined) expect(published.payload).toEqual(payload);
          return;
        }
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        const answer = response.json() as { error?: { code?: unknown; message?: unknown } };
        expect(Object.keys(answer)).toEqual(["error"]);
        expect(DOCUMENTED_CODES).toContain(answer.error?.code);
        expect(answer.error?.message).toEqual(expect.any(String));
      }),
      { numRuns: 300 },
    );
    // Neither all published nor all refused: the generated requests reach both outcomes.
    expect(statuses.filter((status) => status === 202).length).toBeGreaterThan(30);
    expect(statuses.filter((status) => status !== 202).length).toBeGreaterThan(30);
  });
});
