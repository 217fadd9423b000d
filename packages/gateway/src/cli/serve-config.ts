/**
 * Where `eventbus serve` reads its configuration: a flag, else an environment
 * variable, else the default. One table ({@link SERVE_PARAMETERS}) names each,
 * so the CLI's flags, the environment and docs/gateway.md agree. CLI only:
 * not part of the package's exports.
 */
import { readFileSync } from "node:fs";
import { HISTORY_DEFAULTS, type HistoryOptions } from "@eventbus/core";
import type { AuthOptions } from "../auth.js";
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SETTINGS, type GatewaySettings } from "../config.js";
import type { CorsOptions } from "../cors.js";
import { ConfigError } from "../errors.js";
import { DEFAULT_LIMITS, type LimitSettings } from "../limits.js";
import { MAX_TIMER_MS } from "../timer.js";

/**
 * How long `eventbus serve` waits for Redis to answer before it logs that it
 * is unreachable and tries again (core's default `connectTimeoutMs`).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Everything `eventbus serve` runs with. */
export interface ServeConfig extends GatewaySettings {
  /** The bus: `undefined` for in-memory, else a `redis://`, `redis+cluster://` (or `memory://`) URL. */
  readonly url: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly auth: AuthOptions;
  readonly cors: CorsOptions;
  readonly limits: LimitSettings;
  readonly logLevel: string;
  /** How long each attempt to reach Redis at start waits; see {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs: number;
  /** The bus's history bounds, or `false` for none (`--no-history`). */
  readonly history: HistoryOptions | false;
}

/** How one setting is given: its flag (if it has one) and environment variable. */
export interface ServeParameter {
  /** The commander flag spec; secrets have none, so they never show in a process list. */
  readonly flag?: string;
  readonly env: string;
  readonly description: string;
  /** The value without flag or variable, as `serve --help` shows it. */
  readonly default?: string;
  /**
   * `list`: the flag repeats, the variable separates values with commas;
   * `switch`: a flag without a value (`--no-...` for one that is on by
   * default), a variable `true`/`false` (or `1`/`0`).
   */
  readonly kind?: "list" | "switch";
}

/** Every setting of `eventbus serve`, its flag and its environment variable. */
export const SERVE_PARAMETERS = {
  url: {
    flag: "--url <url>",
    env: "EVENTBUS_URL",
    description:
      "bus URL: memory://, redis://[user:pass@]host:port[/db] or redis+cluster://[user:pass@]host:port",
    default: "memory://",
  },
  host: {
    flag: "--host <host>",
    env: "EVENTBUS_HOST",
    description: "address to listen on (loopback only without a JWT key)",
    default: DEFAULT_HOST,
  },
  port: {
    flag: "--port <port>",
    env: "EVENTBUS_PORT",
    description: "port to listen on (0: any)",
    default: String(DEFAULT_PORT),
  },
  heartbeatMs: {
    flag: "--heartbeat-ms <ms>",
    env: "EVENTBUS_HEARTBEAT_MS",
    description: "interval of SSE heartbeat comments",
    default: String(DEFAULT_SETTINGS.heartbeatMs),
  },
  retryMs: {
    flag: "--retry-ms <ms>",
    env: "EVENTBUS_RETRY_MS",
    description: "SSE retry: hint sent to clients",
    default: String(DEFAULT_SETTINGS.retryMs),
  },
  streamBuffer: {
    flag: "--stream-buffer <events>",
    env: "EVENTBUS_STREAM_BUFFER",
    description: "events buffered per stream before a slow client is cut off",
    default: String(DEFAULT_SETTINGS.streamBuffer),
  },
  bodyLimit: {
    flag: "--body-limit <bytes>",
    env: "EVENTBUS_BODY_LIMIT",
    description: "largest request body accepted",
    default: String(DEFAULT_SETTINGS.bodyLimit),
  },
  logLevel: {
    flag: "--log-level <level>",
    env: "EVENTBUS_LOG_LEVEL",
    description: "fatal, error, warn, info, debug, trace or silent",
    default: "info",
  },
  connectTimeoutMs: {
    flag: "--connect-timeout-ms <ms>",
    env: "EVENTBUS_CONNECT_TIMEOUT_MS",
    description:
      "how long each attempt to reach Redis at start waits before it is logged and retried",
    default: String(DEFAULT_CONNECT_TIMEOUT_MS),
  },
  history: {
    flag: "--no-history",
    env: "EVENTBUS_HISTORY",
    description:
      "keep no history: no event positions, GET .../history answers 404 (the variable: false)",
    default: "on",
    kind: "switch",
  },
  historyMaxEntries: {
    flag: "--history-max-entries <n>",
    env: "EVENTBUS_HISTORY_MAX_ENTRIES",
    description: "events kept per channel; also the largest limit of GET .../history",
    default: String(HISTORY_DEFAULTS.maxEntries),
  },
  historyTtlMs: {
    flag: "--history-ttl-ms <ms>",
    env: "EVENTBUS_HISTORY_TTL_MS",
    description:
      "a channel's events expire once nobody published to it for this long (at most 30 days)",
    default: String(HISTORY_DEFAULTS.ttlMs),
  },
  jwtSecret: {
    env: "EVENTBUS_JWT_SECRET",
    description: "HS256 secret (at least 32 bytes); turns access control on",
  },
  jwtPublicKeyFile: {
    flag: "--jwt-public-key-file <path>",
    env: "EVENTBUS_JWT_PUBLIC_KEY_FILE",
    description: "PEM public key (RSA, EC or Ed25519); turns access control on",
  },
  jwksUrl: {
    flag: "--jwks-url <url>",
    env: "EVENTBUS_JWKS_URL",
    description: "the identity provider's JSON Web Key Set (https://); turns access control on",
  },
  issuer: {
    flag: "--issuer <iss>",
    env: "EVENTBUS_JWT_ISSUER",
    description: "tokens must carry this iss",
  },
  audience: {
    flag: "--audience <aud>",
    env: "EVENTBUS_JWT_AUDIENCE",
    description: "tokens must carry this aud",
  },
  grantClaim: {
    flag: "--grant-claim <name>",
    env: "EVENTBUS_JWT_GRANT_CLAIM",
    description: "the claim holding the grant (default eventbus)",
  },
  corsOrigin: {
    flag: "--cors-origin <origin>",
    env: "EVENTBUS_CORS_ORIGINS",
    description:
      "an origin whose pages may call the gateway (repeat; the variable takes a comma list)",
    kind: "list",
  },
  corsCredentials: {
    flag: "--cors-credentials",
    env: "EVENTBUS_CORS_CREDENTIALS",
    description: "let those pages send cookies (the eventbus_token cookie)",
    kind: "switch",
  },
  publishRate: {
    flag: "--publish-rate <n>",
    env: "EVENTBUS_PUBLISH_RATE",
    description: "publishes per window per token (per address without access control); 0: no limit",
  },
  publishRateWindowMs: {
    flag: "--publish-rate-window-ms <ms>",
    env: "EVENTBUS_PUBLISH_RATE_WINDOW_MS",
    description: "the publish rate's window",
  },
  maxStreamsPerClient: {
    flag: "--max-streams-per-client <n>",
    env: "EVENTBUS_MAX_STREAMS_PER_CLIENT",
    description: "open streams per token (per address without access control); 0: no limit",
  },
  maxStreamChannels: {
    flag: "--max-stream-channels <n>",
    env: "EVENTBUS_MAX_STREAM_CHANNELS",
    description: "channels one GET /v1/events stream may follow",
  },
} as const satisfies Record<string, ServeParameter>;

/** The raw values of {@link SERVE_PARAMETERS}, as flags give them: text, a repeated flag's list, a switch. */
export type ServeFlags = {
  readonly [K in keyof typeof SERVE_PARAMETERS]?: string | readonly string[] | boolean | undefined;
};

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/**
 * Resolves the serve configuration: each setting from its flag, else its
 * environment variable, else its default; reads the public key file.
 *
 * @throws {ConfigError} naming the setting that is not valid.
 */
export function resolveServeConfig(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
): ServeConfig {
  const raw = (key: keyof typeof SERVE_PARAMETERS): string | undefined => {
    const flag = flags[key];
    const value = typeof flag === "string" ? flag : env[SERVE_PARAMETERS[key].env];
    return value === "" ? undefined : value;
  };
  const list = (key: keyof typeof SERVE_PARAMETERS): string[] => {
    const flag = flags[key];
    if (Array.isArray(flag)) return [...flag];
    return (raw(key) ?? "")
      .split(",")
      .map((value) => value.trim())
      .filter((value) => value !== "");
  };
  // A switch's flag only ever moves it off its default (commander gives `--no-x` true when absent).
  const toggle = (key: keyof typeof SERVE_PARAMETERS, fallback: boolean): boolean => {
    const flag = flags[key];
    if (typeof flag === "boolean" && flag !== fallback) return flag;
    const value = raw(key)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === "false" || value === "0") return false;
    if (value === "true" || value === "1") return true;
    throw new ConfigError(`${describe(key)} must be true or false, got ${JSON.stringify(value)}`);
  };
  // Timers take at most 2^31 - 1 ms; a larger delay would fire at once.
  const integer = (
    key: keyof typeof SERVE_PARAMETERS,
    fallback: number,
    min: number,
    max = MAX_TIMER_MS,
  ): number => {
    const value = raw(key);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new ConfigError(
        `${describe(key)} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return parsed;
  };
  const port = integer("port", DEFAULT_PORT, 0, 65_535);
  const logLevel = raw("logLevel") ?? "info";
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`${describe("logLevel")} must be one of ${[...LOG_LEVELS].join(", ")}`);
  }
  const keyFile = raw("jwtPublicKeyFile");
  const jwksUrl = raw("jwksUrl");
  return {
    url: raw("url"),
    host: raw("host") ?? DEFAULT_HOST,
    port,
    heartbeatMs: integer("heartbeatMs", DEFAULT_SETTINGS.heartbeatMs, 1),
    retryMs: integer("retryMs", DEFAULT_SETTINGS.retryMs, 0),
    streamBuffer: integer("streamBuffer", DEFAULT_SETTINGS.streamBuffer, 1),
    bodyLimit: integer("bodyLimit", DEFAULT_SETTINGS.bodyLimit, 1),
    logLevel,
    connectTimeoutMs: integer("connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT_MS, 1),
    auth: {
      secret: raw("jwtSecret"),
      publicKey: keyFile === undefined ? undefined : readKeyFile(keyFile),
      jwks: jwksUrl === undefined ? undefined : { url: jwksUrl },
      issuer: raw("issuer"),
      audience: raw("audience"),
      grantClaim: raw("grantClaim"),
    },
    history: toggle("history", true)
      ? {
          maxEntries: integer(
            "historyMaxEntries",
            HISTORY_DEFAULTS.maxEntries,
            1,
            Number.MAX_SAFE_INTEGER,
          ),
          // The counter outlives the events by core's metaTtlMs (30 days), so no ttl beyond it.
          ttlMs: integer("historyTtlMs", HISTORY_DEFAULTS.ttlMs, 1, HISTORY_DEFAULTS.metaTtlMs),
        }
      : false,
    cors: { origins: list("corsOrigin"), credentials: toggle("corsCredentials", false) },
    limits: {
      publishRate: integer("publishRate", DEFAULT_LIMITS.publishRate, 0),
      publishRateWindowMs: integer("publishRateWindowMs", DEFAULT_LIMITS.publishRateWindowMs, 1),
      streamsPerClient: integer("maxStreamsPerClient", DEFAULT_LIMITS.streamsPerClient, 0),
      channelsPerStream: integer("maxStreamChannels", DEFAULT_LIMITS.channelsPerStream, 1),
    },
  };
}

function describe(key: keyof typeof SERVE_PARAMETERS): string {
  const parameter: ServeParameter = SERVE_PARAMETERS[key];
  return parameter.flag === undefined
    ? parameter.env
    : `${parameter.flag.split(" ")[0]} (${parameter.env})`;
}

/**
 * The text of a PEM key file.
 * @throws {ConfigError} naming the file and what it was for, if it cannot be read.
 */
export function readKeyFile(path: string, what = "JWT public key"): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read the ${what} file ${path}`, { cause });
  }
}
