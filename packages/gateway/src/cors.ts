/**
 * Cross-origin access for dashboards served from another origin
 * (@fastify/cors): an allow-list of origins, credentials (cookies) only when
 * configured, and preflight answers for `POST`. Without an allow-list the
 * gateway sends no CORS headers, and browsers keep other origins out.
 */
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import { ConfigError } from "./errors.js";

/** Which origins may call the gateway from a browser. */
export interface CorsOptions {
  /** Exact origins (`https://dashboard.example.com`), or `*` for any (only without credentials). */
  readonly origins: readonly string[];
  /**
   * Whether pages of those origins may send cookies (the `eventbus_token`
   * cookie, with `new EventSource(url, { withCredentials: true })`). Default false.
   */
  readonly credentials?: boolean;
}

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Checks `options` and returns what answers CORS requests from its origins on
 * an app (nothing for an empty list). Error answers (401, 403, 429...) carry
 * the headers too, so the page can read them.
 *
 * @throws {ConfigError} for an origin that is not `scheme://host[:port]`, or `*` with credentials.
 */
export function corsFor(options: CorsOptions | undefined): (app: FastifyInstance) => void {
  const origins = (options?.origins ?? []).map(checkOrigin);
  const credentials = options?.credentials ?? false;
  const any = origins.includes("*");
  if (any && credentials) {
    throw new ConfigError("CORS origin * cannot be combined with credentials; list the origins");
  }
  if (origins.length === 0) return () => {};
  return (app) =>
    app.register(cors, {
      origin: any ? "*" : origins,
      credentials,
      methods: ["GET", "POST"],
      allowedHeaders: ["authorization", "content-type", "last-event-id"],
      exposedHeaders: [
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
      ],
      maxAge: PREFLIGHT_MAX_AGE_S,
      strictPreflight: true,
    });
}

/** An origin exactly as browsers send it in `Origin`: scheme, host and port, nothing else. */
function checkOrigin(origin: string): string {
  if (origin === "*") return origin;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.origin !== origin) {
    throw new ConfigError(
      `CORS origin ${JSON.stringify(origin)} must be scheme://host[:port], such as https://dashboard.example.com (no path, no trailing slash)`,
    );
  }
  return origin;
}
