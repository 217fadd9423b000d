import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createEvent, decodeEvent, type Event, EventType, parsePosition } from "@eventbus/core";
import { startRedisServer } from "@eventbus/test-redis";
import { describe, expect, it, onTestFinished } from "vitest";
import { Authenticator } from "../src/auth.js";
import { RecentFirst } from "../src/cli/recent-first.js";
import {
  CliProcess,
  postJson,
  publishMany,
  RawStream,
  runCli,
  SECRET,
  serveCli,
  startGateway,
  tokenFor,
  uuid,
} from "./support.js";

describe("cli - serve, tail, publish", () => {
  it("cli - tail --json prints the event that publish published, through eventbus serve", async () => {
    const { cli: server, url } = await serveCli();
    expect(server.stdout).toContain(`Console: ${url}/`);
    expect(server.stdout).toContain("Access control: off");
    const project = uuid();
    const agent = uuid();
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--json",
      "--count",
      "1",
      "--url",
      url,
    ]);
    await tail.said(/following project/);
    const published = await runCli([
      "publish",
      "--project",
      project,
      "--type",
      "issue.created",
      "--actor",
      `agent:${agent}`,
      "--payload",
      '{"issue_id":42}',
      "--url",
      url,
    ]);
    expect(published.code).toBe(0);
    expect(await tail.exited).toBe(0);
    const line = tail.stdout.trim();
    // The wire JSON publish printed, and the event's position as a last member.
    const { position, ...wire } = JSON.parse(line);
    expect(JSON.stringify(wire)).toBe(published.stdout.trim());
    expect(parsePosition(position).offset).toBe(1);
    expect(decodeEvent(line)).toMatchObject({
      type: "issue.created",
      project_id: project,
      actor_type: "agent",
      actor_id: agent,
      payload: { issue_id: 42 },
    });
  });

  it("cli - serve ends open streams and exits 0 on SIGTERM", async () => {
    const { cli: server, url } = await serveCli(["--heartbeat-ms", "60000"]);
    const stream = new RawStream(`${url}/v1/projects/${uuid()}/events`);
    await stream.started();
    server.child.kill("SIGTERM");
    await stream.finished();
    expect(stream.text).toContain(": server shutting down");
    expect(await server.exited).toBe(0);
  });

  it("cli - tail prints readable lines by default, filtered by --types", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--types",
      "issue.closed",
      "--count",
      "1",
      "--url",
      url,
    ]);
    await tail.said(/following project/);
    const events = `${url}/v1/projects/${project}/events`;
    await postJson(events, { type: "issue.created", actor_type: "system", payload: { n: 1 } });
    await postJson(events, { type: "issue.closed", actor_type: "user", payload: { n: 2 } });
    expect(await tail.exited).toBe(0);
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}issue\.closed +user +\{"n":2\}\n$/);
  });

  it("cli - token mints what the gateway accepts; publish without it is refused with the code", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const project = uuid();
    const minted = await runCli(["token", "--project", project, "--publish", "--ttl", "10m"], {
      EVENTBUS_JWT_SECRET: SECRET,
    });
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    const access = await new Authenticator({ secret: SECRET }).verify(token);
    expect(access.grant).toEqual({ projects: [project], agents: [], publish: true });

    const args = ["publish", "--project", project, "--type", "sprint.started", "--url", url];
    const refused = await runCli(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused (GATEWAY_UNAUTHORIZED)");
    const accepted = await runCli(args, { EVENTBUS_TOKEN: token });
    expect(accepted.code).toBe(0);
    expect(decodeEvent(accepted.stdout.trim()).type).toBe("sprint.started");

    const tailOther = await runCli(["tail", "--project", uuid(), "--url", url, "--token", token]);
    expect(tailOther.code).toBe(1);
    expect(tailOther.stderr).toContain("refused (GATEWAY_FORBIDDEN)");
  });

  it("cli - tail ends with status 1 and the reason when its token expires", async () => {
    const { url } = await startGateway({ auth: { secret: SECRET } });
    const project = uuid();
    // exp is whole seconds: 3 s from now leaves at least 2 s for the CLI to start and connect.
    const token = await tokenFor({ projects: [project], ttlSeconds: 3 });
    const tail = new CliProcess(["tail", "--project", project, "--url", url], {
      EVENTBUS_TOKEN: token,
    });
    await tail.said(/following project/);
    expect(await tail.exited).toBe(1);
    expect(tail.stderr).toContain("refused (GATEWAY_TOKEN_EXPIRED): the access token has expired");
  });
});

/** `tail --json` lines: each event's id and its `position` member, if any. */
function tailedLines(stdout: string): { id: string; position: string | undefined }[] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const { id, position } = JSON.parse(line) as { id: string; position?: string };
      expect(decodeEvent(line).id).toBe(id);
      return { id, position };
    });
}

describe("cli - tail --last", () => {
  it("cli - tail --last n prints the last n retained events with their positions, then live ones, through a gateway", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const ids = await publishMany(url, project, 4);
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--last",
      "2",
      "--json",
      "--count",
      "3",
      "--url",
      url,
    ]);
    await tail.said(/following project/);
    await tail.printed(new RegExp(ids[3] ?? ""));
    const [live] = await publishMany(url, project, 1);
    expect(await tail.exited).toBe(0);
    const lines = tailedLines(tail.stdout);
    expect(lines.map((line) => line.id)).toEqual([ids[2], ids[3], live]);
    // Live through the gateway too: the SSE `id:` is the position.
    expect(lines.map((line) => parsePosition(line.position ?? "").offset)).toEqual([3, 4, 5]);
  });

  it("cli - tail --last with --types prints the retained events of those types among the last n", async () => {
    const { url } = await startGateway();
    const project = uuid();
    const ids = await publishMany(url, project, 4);
    const tail = await runCli([
      "tail",
      "--project",
      project,
      "--last",
      "3",
      "--types",
      "issue.closed",
      "--count",
      "2",
      "--json",
      "--url",
      url,
    ]);
    expect(tail.code).toBe(0);
    expect(tailedLines(tail.stdout).map((line) => line.id)).toEqual([ids[1], ids[3]]);
  });

  it("cli - tail --last straight on Redis prints positions for retained and live events", async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const { url } = await startGateway({ url: redis.url });
    const project = uuid();
    const ids = await publishMany(url, project, 3);
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--last",
      "2",
      "--json",
      "--count",
      "3",
      "--url",
      redis.url,
    ]);
    await tail.said(/following project/);
    await tail.printed(new RegExp(ids[2] ?? ""));
    const [live] = await publishMany(url, project, 1);
    expect(await tail.exited).toBe(0);
    const lines = tailedLines(tail.stdout);
    expect(lines.map((line) => line.id)).toEqual([ids[1], ids[2], live]);
    const positions = lines.map((line) => parsePosition(line.position ?? ""));
    expect(positions.map((position) => position.offset)).toEqual([2, 3, 4]);
    expect(new Set(positions.map((position) => position.epoch)).size).toBe(1);
  });

  it("cli - publish straight on Redis with --history-max-entries appends to the history a gateway serves, with its position", async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const { url } = await startGateway({ url: redis.url, history: { maxEntries: 3 } });
    const project = uuid();
    const publish = (extra: string[]) =>
      runCli([
        "publish",
        "--project",
        project,
        "--type",
        "issue.created",
        "--url",
        redis.url,
        ...extra,
      ]);
    const results = [];
    for (let n = 0; n < 4; n++) results.push(await publish(["--history-max-entries", "3"]));
    expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0]);
    const ids = results.map((result) => (JSON.parse(result.stdout) as { id: string }).id);
    const page = (await (await fetch(`${url}/v1/projects/${project}/history`)).json()) as {
      events: { position: string; event: { id: string } }[];
    };
    // The bound given is kept: the first of four is trimmed.
    expect(page.events.map((entry) => entry.event.id)).toEqual(ids.slice(1));
    expect(page.events.map((entry) => parsePosition(entry.position).offset)).toEqual([2, 3, 4]);
    // Without the flag, a plain PUBLISH: nothing appended.
    expect((await publish([])).code).toBe(0);
    const after = (await (await fetch(`${url}/v1/projects/${project}/history`)).json()) as {
      current: string;
    };
    expect(parsePosition(after.current).offset).toBe(4);
    // Through a gateway the flags are refused, naming why.
    const refused = await runCli([
      "publish",
      "--project",
      project,
      "--type",
      "issue.created",
      "--history-max-entries",
      "3",
      "--url",
      url,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/apply to a Redis bus/);
  });

  it("cli - tail --last against a gateway without history says so and follows live; over its bound it is refused", async () => {
    const off = await startGateway({ history: false });
    const project = uuid();
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--last",
      "5",
      "--count",
      "1",
      "--url",
      off.url,
    ]);
    await tail.said(/the gateway keeps no history: nothing before now to print/);
    await publishMany(off.url, project, 1);
    expect(await tail.exited).toBe(0);
    expect(tail.stdout).toMatch(/issue\.created/);

    const bounded = await startGateway({ history: { maxEntries: 10 } });
    const refused = await runCli([
      "tail",
      "--project",
      project,
      "--last",
      "11",
      "--url",
      bounded.url,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused (GATEWAY_INVALID_REQUEST)");
    expect(refused.stderr).toContain("query.limit: must be an integer from 1 to 10");
  });

  it.each([
    ["a gateway", false],
    ["Redis", true],
  ])(
    "cli - tail --since a position prints every event after it, then live ones, through %s",
    async (_name, direct) => {
      const redis = await startRedisServer();
      onTestFinished(() => redis.stop());
      const { url } = await startGateway({ url: redis.url });
      const project = uuid();
      const ids = await publishMany(url, project, 4);
      const history = await (await fetch(`${url}/v1/projects/${project}/history`)).json();
      const since = history.events[1].position as string;
      const tail = new CliProcess([
        "tail",
        "--project",
        project,
        "--since",
        since,
        "--json",
        "--count",
        "3",
        "--url",
        direct ? redis.url : url,
      ]);
      await tail.printed(new RegExp(ids[3] ?? ""));
      const [live] = await publishMany(url, project, 1);
      expect(await tail.exited).toBe(0);
      const lines = tailedLines(tail.stdout);
      expect(lines.map((line) => line.id)).toEqual([ids[2], ids[3], live]);
      expect(lines.map((line) => parsePosition(line.position ?? "").offset)).toEqual([3, 4, 5]);
    },
  );

  it("cli - tail --since a position history no longer holds says so on stderr, then follows", async () => {
    const { url } = await startGateway({ history: { maxEntries: 2 } });
    const project = uuid();
    await publishMany(url, project, 1);
    const history = await (await fetch(`${url}/v1/projects/${project}/history`)).json();
    const since = history.events[0].position as string;
    await publishMany(url, project, 3);
    const tail = new CliProcess([
      "tail",
      "--project",
      project,
      "--since",
      since,
      "--count",
      "1",
      "--url",
      url,
    ]);
    await tail.said(/cannot be recovered \(trimmed\)/);
    await publishMany(url, project, 1);
    expect(await tail.exited).toBe(0);
    expect(tail.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("cli - tail --last orders the recent events before live ones that arrived meanwhile, each once", () => {
    const event = (n: number): Event =>
      createEvent({
        type: EventType.ISSUE_CREATED,
        project_id: uuid(),
        actor_type: "system",
        payload: { n },
      });
    const [a, b, c, d] = [event(1), event(2), event(3), event(4)] as const;
    const printed: [number, string | undefined][] = [];
    const order = new RecentFirst((e, position) => printed.push([e.payload.n as number, position]));
    // c and d arrive live while the history read (which already holds c) is under way.
    order.live(c, undefined);
    order.live(d, undefined);
    expect(printed).toEqual([]);
    order.recent([
      { event: a, position: "e.1" },
      { event: b, position: "e.2" },
      { event: c, position: "e.3" },
    ]);
    order.live(event(5), "e.5");
    expect(printed).toEqual([
      [1, "e.1"],
      [2, "e.2"],
      [3, "e.3"],
      [4, undefined],
      [5, "e.5"],
    ]);
  });
});

describe("cli - help and bad input", () => {
  it("cli - --help describes each command and exits 0", async () => {
    const commands = [[], ["serve"], ["tail"], ["publish"], ["token"]];
    const results = await Promise.all(commands.map((command) => runCli([...command, "--help"])));
    for (const [index, result] of results.entries()) {
      expect(result.code, commands[index]?.join(" ")).toBe(0);
      expect(result.stdout).toMatch(/^Usage: eventbus/);
    }
    expect(results[1]?.stdout).toContain("EVENTBUS_PORT");
    expect(results[2]?.stdout).toContain("--json");
    expect(results[3]?.stdout).toContain("--payload <json>");
    expect(results[4]?.stdout).toContain("--publish");
  });

  it("cli - bad input exits 1 and names what is wrong", async () => {
    const project = uuid();
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [["publish", "--project", "nope", "--type", "issue.created"], /--project.*must be a UUID/],
      [["publish", "--project", project, "--type", "issue.lost"], /--type.*must be one of/],
      [
        ["publish", "--project", project, "--type", "issue.created", "--payload", "[1]"],
        /JSON object/,
      ],
      [
        ["publish", "--project", project, "--type", "issue.created", "--payload", "{"],
        /must be JSON/,
      ],
      [["publish", "--project", project, "--type", "issue.created", "--actor", "robot"], /--actor/],
      [["publish", "--type", "issue.created"], /--project <uuid>' not specified/],
      [["publish", "--project", project, "--type", "issue.created", "--url", "ftp://x"], /--url/],
      [["tail"], /give --project <uuid> or --agent <uuid>/],
      [["tail", "--project", project, "--agent", uuid()], /cannot be used with/],
      [["tail", "--project", project, "--last", "0"], /--last.*positive integer/],
      [["tail", "--project", project, "--since", "17"], /--since.*must be a position/],
      [["tail", "--project", project, "--since", "a.1", "--last", "2"], /cannot be used with/],
      [["token", "--project", project], /EVENTBUS_JWT_SECRET/],
      [["token", "--project", project, "--ttl", "soon"], /--ttl/, { EVENTBUS_JWT_SECRET: SECRET }],
      [["serve", "--port", "http"], /--port \(EVENTBUS_PORT\)/],
      [["serve", "--host", "0.0.0.0", "--port", "0"], /loopback only, not 0\.0\.0\.0/],
      [["frobnicate"], /unknown command/],
    ];
    const results = await Promise.all(cases.map(([args, , env]) => runCli(args, env)));
    for (const [index, result] of results.entries()) {
      const [args, message] = cases[index] ?? [[], /./];
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr, args.join(" ")).toMatch(message);
    }
  });
});

/** A loopback port nothing listens on (it was free a moment ago). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address !== null ? address.port : 0),
      );
    });
  });
}

describe("cli - the small things a careful user meets", () => {
  it("cli - --version prints the package's version", async () => {
    const { version } = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it("cli - serve --help shows each setting's default", async () => {
    const { stdout } = await runCli(["serve", "--help"]);
    const flat = stdout.replace(/\s+/g, " ");
    for (const shown of [
      "EVENTBUS_URL, default: memory://",
      "EVENTBUS_HOST, default: 127.0.0.1",
      "EVENTBUS_PORT, default: 8080",
      "EVENTBUS_HEARTBEAT_MS, default: 15000",
      "EVENTBUS_RETRY_MS, default: 3000",
      "EVENTBUS_STREAM_BUFFER, default: 1000",
      "EVENTBUS_BODY_LIMIT, default: 1048576",
      "EVENTBUS_LOG_LEVEL, default: info",
      "EVENTBUS_CONNECT_TIMEOUT_MS, default: 10000",
      "EVENTBUS_HISTORY, default: on",
      "EVENTBUS_HISTORY_MAX_ENTRIES, default: 1000",
      "EVENTBUS_HISTORY_TTL_MS, default: 86400000",
    ]) {
      expect(flat).toContain(shown);
    }
  });

  it("cli - publish and tail against a gateway that is not running say where and what to check", async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const project = uuid();
    const results = await Promise.all([
      runCli(["publish", "--project", project, "--type", "issue.created", "--url", url]),
      runCli(["tail", "--project", project, "--url", url]),
    ]);
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `eventbus: cannot reach the gateway at ${url} (ECONNREFUSED): is the gateway running? (eventbus serve)\n`,
      );
    }
  });
});
