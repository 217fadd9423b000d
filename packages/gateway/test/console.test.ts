import { createEventBus } from "@eventbus/core";
import { startRedisServer } from "@eventbus/test-redis";
import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { useBrowser } from "./browser.js";
import { CuttableProxy, postJson, SECRET, startGateway, tokenFor, uuid } from "./support.js";

const browser = useBrowser();

/** Publishes an `issue.updated` event with `payload` to the project over HTTP; resolves with it. */
async function publishTo(
  url: string,
  project: string,
  payload: Record<string, unknown>,
  token?: string,
): Promise<{ id: string }> {
  const response = await postJson(
    `${url}/v1/projects/${project}/events`,
    { type: "issue.updated", actor_type: "system", payload },
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );
  expect(response.status).toBe(202);
  return response.json();
}

async function openConsole(url: string, project: string, token?: string): Promise<Page> {
  const page = await browser().newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${url}/`);
  await page.fill("#project", project);
  if (token !== undefined) await page.fill("#token", token);
  await page.click("#follow");
  await expect.poll(() => page.textContent("#status")).toContain(`Live: project ${project}`);
  expect(errors).toEqual([]);
  return page;
}

describe("console", () => {
  it("console - shows events live, filters, pauses, and publishes a test event", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const page = await openConsole(url, project);
    expect(await page.isHidden("#token-field")).toBe(true);

    // An event published over HTTP appears as a row: time, type, actor, payload.
    const actor = uuid();
    const response = await postJson(`${url}/v1/projects/${project}/events`, {
      type: "issue.created",
      actor_type: "agent",
      actor_id: actor,
      payload: { issue_id: 42, title: "Login fails" },
    });
    const published = await response.json();
    const row = page.locator(`tr[data-id="${published.id}"]`);
    await row.waitFor();
    expect(await row.locator("td.type").textContent()).toBe("issue.created");
    expect(await row.locator("td.actor").textContent()).toBe(`agent ${actor.slice(0, 8)}`);
    expect(await row.locator("td.payload").textContent()).toBe(
      '{"issue_id":42,"title":"Login fails"}',
    );
    expect(await row.locator("td.time").getAttribute("title")).toBe(published.timestamp);

    // Filtering by type hides the other types' rows.
    await page.selectOption("#filter", "sprint.started");
    expect(await row.isHidden()).toBe(true);
    await page.selectOption("#filter", "");
    expect(await row.isVisible()).toBe(true);

    // Paused, new events wait; resumed, they appear.
    await page.click("#pause");
    await expect.poll(() => page.textContent("#status")).toContain("Paused");
    const second = await (
      await postJson(`${url}/v1/projects/${project}/events`, {
        type: "issue.closed",
        actor_type: "system",
      })
    ).json();
    await expect.poll(() => page.textContent("#count")).toContain("1 waiting");
    expect(await page.locator(`tr[data-id="${second.id}"]`).count()).toBe(0);
    await page.click("#pause");
    await page.locator(`tr[data-id="${second.id}"]`).waitFor();

    // The form publishes to the followed project; the event comes back as a row.
    await page.selectOption("#publish-type", "sprint.started");
    await page.fill("#payload", '{"sprint": 3}');
    await page.click("#publish");
    await expect
      .poll(() => page.textContent("#publish-result"))
      .toMatch(/^Published sprint\.started /);
    const rowTypes = await page.locator("#events tbody td.type").allTextContents();
    expect(rowTypes[0]).toBe("sprint.started");
    expect(rowTypes).toHaveLength(3);
  });

  it("console - following a project shows its recent events (the last 50) first, then live ones, each once", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const published: string[] = [];
    for (let n = 0; n < 53; n++) published.push((await publishTo(url, project, { n })).id);
    const page = await openConsole(url, project);
    const rowIds = () =>
      page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.dataset.id));
    // Newest on top, as live events are shown.
    await expect.poll(rowIds).toEqual(published.slice(3).reverse());

    const live = await publishTo(url, project, { n: 53 });
    await expect.poll(rowIds).toEqual([live.id, ...published.slice(3).reverse()]);

    // Following the same project again adds no row twice.
    await page.click("#follow");
    const again = await publishTo(url, project, { n: 54 });
    await page.locator(`tr[data-id="${again.id}"]`).waitFor();
    expect(await rowIds()).toEqual([again.id, live.id, ...published.slice(3).reverse()]);
    expect(await page.textContent("#status")).toBe(`Live: project ${project}`);
  });

  it("console - after a network drop the stream resumes: every row once, in order", async () => {
    const { url: gatewayUrl } = await startGateway({ retryMs: 100 });
    const { proxy, url } = await CuttableProxy.start(gatewayUrl);
    const project = uuid();
    const page = await openConsole(url, project);
    const rowIds = () =>
      page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.dataset.id));
    const before = [(await publishTo(gatewayUrl, project, { n: 0 })).id];
    await expect.poll(rowIds).toEqual(before);

    // The page's connections are cut; its EventSource reconnects and waits at the cut.
    proxy.cut();
    await proxy.holding();
    const during: string[] = [];
    for (let n = 1; n <= 3; n++) during.push((await publishTo(gatewayUrl, project, { n })).id);
    proxy.restore();
    const after = (await publishTo(gatewayUrl, project, { n: 4 })).id;
    await expect.poll(rowIds).toEqual([after, ...[...during].reverse(), ...before]);
    expect(await page.textContent("#status")).toBe(`Live: project ${project}`);
  });

  it("console - events the gateway can no longer recover are said, and the latest are shown", async () => {
    const { url: gatewayUrl } = await startGateway({ retryMs: 100, history: { maxEntries: 2 } });
    const { proxy, url } = await CuttableProxy.start(gatewayUrl);
    const project = uuid();
    const page = await openConsole(url, project);
    const rowIds = () =>
      page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.dataset.id));
    const first = (await publishTo(gatewayUrl, project, { n: 0 })).id;
    await expect.poll(rowIds).toEqual([first]);

    proxy.cut();
    await proxy.holding();
    const during: string[] = [];
    for (let n = 1; n <= 4; n++) during.push((await publishTo(gatewayUrl, project, { n })).id);
    proxy.restore();
    // Two of the four were trimmed: the page says so and shows the two history kept.
    await expect
      .poll(() => page.textContent("#status"))
      .toBe(
        `Live: project ${project} (some events could not be recovered: trimmed; showing the latest)`,
      );
    await expect.poll(rowIds).toEqual([during[3], during[2], first]);
  });

  it("console - with access control, follows with a pasted token and shows refusals", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const [project, other] = [uuid(), uuid()];
    const earlier = await publishTo(
      url,
      project,
      {},
      await tokenFor({ projects: [project], publish: true }),
    );
    const token = await tokenFor({ projects: [project] });
    const page = await openConsole(url, project, token);
    expect(await page.isVisible("#token-field")).toBe(true);
    // The recent events are read with the pasted token.
    await page.locator(`tr[data-id="${earlier.id}"]`).waitFor();

    // The token reads but may not publish: the form shows the gateway's refusal.
    await page.click("#publish");
    await expect.poll(() => page.textContent("#publish-result")).toContain("GATEWAY_FORBIDDEN");

    // Another project is refused, and the page says why.
    await page.fill("#project", other);
    await page.click("#follow");
    await expect.poll(() => page.textContent("#status")).toContain("GATEWAY_FORBIDDEN");
  });

  it("console - a Redis outage shows: not Live while the bus is down, Live again with the gap, new follows wait", async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const bus = createEventBus(redis.url, {
      redis: { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, connectTimeoutMs: 2_000 },
    });
    onTestFinished(() => bus.close());
    const { url } = await startGateway({ bus });
    const project = uuid();
    const page = await openConsole(url, project);
    const status = () => page.textContent("#status");
    const patient = { timeout: 15_000 };

    // The open stream hears the outage: a warning, never green "Live".
    await redis.kill();
    await expect.poll(status, patient).toMatch(/^Bus disconnected since \d\d:\d\d:\d\d/);
    expect(await page.getAttribute("#status", "data-state")).toBe("warning");
    await redis.restart();
    await expect
      .poll(status, patient)
      .toMatch(
        /^Live: project \S+ \(the bus was down \d+\.\d s; events published then may have been lost\)$/,
      );
    expect(await page.getAttribute("#status", "data-state")).toBe("live");

    // Following anew while the bus is down is refused (503); the page says so and tries again.
    await redis.kill();
    await expect.poll(status, patient).toMatch(/^Bus disconnected/);
    await page.click("#follow");
    await expect
      .poll(status, patient)
      .toMatch(/^Waiting for the gateway's bus \(GATEWAY_NOT_READY/);
    expect(await page.getAttribute("#status", "data-state")).toBe("warning");
    await redis.restart();
    await expect.poll(status, patient).toBe(`Live: project ${project}`);

    // And events flow to it again.
    const published = await (
      await postJson(`${url}/v1/projects/${project}/events`, {
        type: "issue.created",
        actor_type: "system",
      })
    ).json();
    await page.locator(`tr[data-id="${published.id}"]`).waitFor();
  });
});
