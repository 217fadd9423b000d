import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfigError, createGateway } from "../src/index.js";
import { useBrowser } from "./browser.js";
import { SECRET, startGateway, tokenFor, uuid } from "./support.js";

const browser = useBrowser();

/** A web server on its own loopback port, so its pages have an origin of their own. */
async function siteOrigin(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>dashboard</title><p>dashboard</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function openPage(origin: string): Promise<Page> {
  const page = await browser().newPage();
  onTestFinished(() => page.close());
  await page.goto(`${origin}/`);
  return page;
}

/** In the page: follows `url` with EventSource; resolves with the channel of each message, or "refused". */
function follow(page: Page, url: string, count: number): Promise<string[] | "refused"> {
  return page.evaluate(
    ([url, count]) =>
      new Promise<string[] | "refused">((resolve) => {
        const source = new EventSource(url);
        const channels: string[] = [];
        source.addEventListener("issue.created", (message) => {
          channels.push(JSON.parse(message.data).channel);
          if (channels.length === count) {
            source.close();
            resolve(channels);
          }
        });
        source.addEventListener("open", () => {
          (window as unknown as { followed: boolean }).followed = true;
        });
        source.addEventListener("error", () => {
          if (source.readyState === EventSource.CLOSED) resolve("refused");
        });
      }),
    [url, count] as const,
  );
}

/** In the page: POSTs an event with a Bearer token; the status, code and Retry-After, or the fetch error. */
function publish(page: Page, url: string, token: string) {
  return page.evaluate(
    async ([url, token]) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ type: "issue.created", actor_type: "user" }),
        });
        const body = await response.json();
        return {
          status: response.status,
          code: body.error?.code as string | undefined,
          retryAfter: response.headers.get("retry-after"),
        };
      } catch (error) {
        return { failed: String(error) };
      }
    },
    [url, token] as const,
  );
}

describe("cors - in Chromium", () => {
  it("cors - a page of an allowed origin follows a stream and publishes on the gateway; a third origin is refused both", async () => {
    const [dashboard, stranger] = [await siteOrigin(), await siteOrigin()];
    const { url, gateway } = await startGateway({
      auth: { secret: SECRET },
      cors: { origins: [dashboard] },
      limits: { publishRate: 2 },
    });
    const [project, agent] = [uuid(), uuid()];
    const reader = await tokenFor({ projects: [project], agents: [agent] });
    const writer = await tokenFor({ projects: [project], agents: [agent], publish: true });
    const streamUrl = `${url}/v1/events?project=${project}&agent=${agent}&access_token=${reader}`;
    const publishUrl = `${url}/v1/projects/${project}/events`;

    const page = await openPage(dashboard);
    const received = follow(page, streamUrl, 2);
    await expect.poll(() => page.evaluate(() => "followed" in window)).toBe(true);
    expect(await publish(page, publishUrl, writer)).toMatchObject({ status: 202 });
    expect(await publish(page, `${url}/v1/agents/${agent}/events`, writer)).toMatchObject({
      status: 400,
      code: "EVENTBUS_VALIDATION",
    });
    // Refusals are readable by the page too: the code, and Retry-After past the rate limit.
    const limited = await publish(page, publishUrl, writer);
    expect(limited).toMatchObject({ status: 429, code: "GATEWAY_RATE_LIMITED" });
    expect(Number((limited as { retryAfter: string }).retryAfter)).toBeGreaterThan(0);
    expect(await publish(page, `${url}/v1/projects/${uuid()}/events`, reader)).toMatchObject({
      status: 403,
    });
    await gateway.bus.publish(gateway.bus.getAgentChannel(agent), {
      id: uuid(),
      type: "issue.created",
      timestamp: new Date(),
      project_id: project,
      actor_id: null,
      actor_type: "system",
      payload: {},
    });
    expect(await received).toEqual([`project:${project}`, `agent:${agent}`]);

    const published = gateway.bus.stats().published;
    const other = await openPage(stranger);
    expect(await follow(other, streamUrl, 1)).toBe("refused");
    expect(await publish(other, publishUrl, writer)).toMatchObject({
      failed: expect.stringContaining("Failed to fetch"),
    });
    expect(gateway.bus.stats().published).toBe(published);
  });
});

describe("cors - headers", () => {
  it("cors - preflight for POST names the methods and headers; credentials only when configured", async () => {
    const origin = "https://dashboard.example.test";
    for (const credentials of [false, true]) {
      const { url } = await startGateway({ cors: { origins: [origin], credentials } });
      const preflight = await fetch(`${url}/v1/projects/${uuid()}/events`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, POST");
      expect(preflight.headers.get("access-control-allow-headers")).toBe(
        "authorization, content-type, last-event-id",
      );
      expect(preflight.headers.get("access-control-allow-credentials")).toBe(
        credentials ? "true" : null,
      );
      const refused = await fetch(`${url}/healthz`, {
        headers: { origin: "https://elsewhere.example.test" },
      });
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it.each([
    [["https://dashboard.example.test/"], /no path, no trailing slash/],
    [["dashboard.example.test"], /scheme:\/\/host/],
    [["https://a.example.test/app"], /no path/],
  ])("cors - refuses the origin list %j", (origins, message) => {
    expect(() => createGateway({ cors: { origins }, logLevel: "silent" })).toThrow(ConfigError);
    expect(() => createGateway({ cors: { origins }, logLevel: "silent" })).toThrow(message);
  });

  it("cors - refuses * with credentials", () => {
    expect(() =>
      createGateway({ cors: { origins: ["*"], credentials: true }, logLevel: "silent" }),
    ).toThrow(/cannot be combined with credentials/);
  });
});
