import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { encodeEvent } from "@eventbus/core";
import { eventPool } from "../fixtures.js";
import { type Lineup, lineupOf, openSelected, type Runner, type Scenario } from "../harness.js";
import { startServer } from "../live/processes.js";
import type { ServerName } from "../live/servers/index.js";

/** A contender of the HTTP publish scenario: a name in the report and the server it runs. */
export interface PublishContender {
  readonly name: string;
  readonly server: ServerName;
}

/** What the HTTP publish scenario declares. */
export interface PublishSpec extends Lineup {
  readonly contenders: readonly PublishContender[];
  readonly seconds: number;
  readonly connections: number;
}

/** The parts of autocannon's `--json` result read here. */
interface AutocannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

/**
 * Scenario 11: `POST /v1/projects/{id}/events` with a ~300-byte event in the
 * wire format, over keep-alive connections, driven by autocannon in a process
 * of its own; each server in a process of its own. Requests per second and
 * latency; any non-2xx answer or error fails the run.
 */
export function httpPublishScenario(spec: PublishSpec): Scenario {
  return {
    id: "http-publish",
    title: "11. HTTP publish",
    description: `autocannon, ${spec.connections} keep-alive connections for ${spec.seconds} s, each request one event of about 300 B in the wire format (id and timestamp given) to one project; the minimal route parses, validates with zod, PUBLISHes and answers 202.`,
    metrics: [
      { key: "requestsPerSec", unit: "req/s", better: "higher" },
      { key: "p50", unit: "ms p50", better: "lower" },
      { key: "p99", unit: "ms p99", better: "lower" },
    ],
    ...lineupOf(spec),
    open: (context) =>
      openSelected(spec.contenders, context, async (contender): Promise<Runner> => {
        const project = randomUUID();
        const [event] = eventPool(1, 300, project);
        if (event === undefined) throw new Error("no event");
        const server = await startServer(contender.server, context.redisUrl);
        const url = `${server.url}/v1/projects/${project}/events`;
        return {
          name: contender.name,
          run: async () => {
            const result = await autocannon(url, encodeEvent(event), spec);
            if (result.non2xx + result.errors + result.timeouts > 0) {
              throw new Error(
                `${contender.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
              );
            }
            return {
              requestsPerSec: result.requests.average,
              p50: result.latency.p50,
              p99: result.latency.p99,
            };
          },
          close: () => server.stop(),
        };
      }),
  };
}

async function autocannon(
  url: string,
  body: string,
  { seconds, connections }: { readonly seconds: number; readonly connections: number },
): Promise<AutocannonResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      AUTOCANNON,
      "--json",
      "--connections",
      String(connections),
      "--duration",
      String(seconds),
      "--method",
      "POST",
      "--headers",
      "content-type=application/json",
      "--body",
      body,
      url,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as AutocannonResult;
}
