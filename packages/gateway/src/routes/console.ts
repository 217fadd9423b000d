/**
 * The web console: GET / serves a static page (HTML, one script, one
 * stylesheet, no build step) that follows a project with the browser's
 * `EventSource` and publishes test events with `fetch`.
 */
import { readFileSync } from "node:fs";
import { EVENT_TYPES } from "@eventbus/core";
import type { FastifyInstance } from "fastify";

/** The folder of the console's files: `static/` at the package root, from `src/routes` or `dist/routes`. */
const STATIC_DIR = new URL("../../static/", import.meta.url);

/** Nothing but the page's own script, style and API; no inline code, no framing. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
} as const;

/** What the page is told about this gateway. */
export interface ConsoleSettings {
  readonly accessControl: boolean;
  /** The largest `limit` of the history routes, so the page never asks for more. */
  readonly historyLimit: number;
}

/**
 * Registers the console's three files. The page learns whether access control
 * is on, the event types and the history bound from attributes filled in here,
 * once at startup, so it asks for a token only when one is needed.
 */
export function registerConsoleRoutes(app: FastifyInstance, settings: ConsoleSettings): void {
  const page = read("index.html")
    .replace("{{accessControl}}", settings.accessControl ? "on" : "off")
    .replace("{{eventTypes}}", EVENT_TYPES.join(","))
    .replace("{{historyLimit}}", String(settings.historyLimit));
  const files = [
    ["/", "text/html; charset=utf-8", page],
    ["/console.js", "text/javascript; charset=utf-8", read("console.js")],
    ["/console.css", "text/css; charset=utf-8", read("console.css")],
  ] as const;
  for (const [path, type, body] of files) {
    app.get(path, async (_request, reply) => reply.headers(SECURITY_HEADERS).type(type).send(body));
  }
}

function read(name: string): string {
  return readFileSync(new URL(name, STATIC_DIR), "utf8");
}
