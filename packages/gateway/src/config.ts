/**
 * The gateway's settings and where `eventbus serve` reads them: a flag, else an
 * environment variable, else the default. One table ({@link SERVE_PARAMETERS})
 * names each, so the CLI's flags, the environment and docs/gateway.md agree.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ConfigError } from "./errors.js";
import type { AuthKeys } from "./keys.js";

/** Tunables of a gateway's HTTP and SSE behaviour. */
export interface GatewaySettings {
  /** Interval between heartbeat comments on every open stream, in milliseconds. */
  readonly heartbeatMs: number;
  /** The `retry:` hint: how long a browser waits before reconnecting, in milliseconds. */
  readonly retryMs: number;
  /** Events buffered for one stream before it is cut off as a slow consumer. */
  readonly streamBuffer: number;
  /** The largest request body accepted, in bytes; larger ones get 413. */
  readonly bodyLimit: number;
}

/** The defaults of {@link GatewaySettings}. */
export const DEFAULT_SETTINGS: GatewaySettings = {
  heartbeatMs: 15_000,
  retryMs: 3_000,
  streamBuffer: 1_000,
  bodyLimit: 1024 * 1024,
};

/** The default address: loopback, reachable from this machine only. */
export const DEFAULT_HOST = "127.0.0.1";

/** The default port. */
export const DEFAULT_PORT = 8080;

/**
 * How long `eventbus serve` waits for Redis to answer before it logs that it
 * is unreachable and tries again (core's default `connectTimeoutMs`).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Everything `eventbus serve` runs with. */
export interface ServeConfig extends GatewaySettings {
  /** The bus: `undefined` for in-memory, else a `redis://` (or `memory://`) URL. */
  readonly url: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly auth: AuthKeys;
  readonly logLevel: string;
  /** How long each attempt to reach Redis at start waits; see {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs: number;
}

/** How one setting is given: its flag (if it has one) and environment variable. */
export interface ServeParameter {
  /** The commander flag spec; secrets have none, so they never show in a process list. */
  readonly flag?: string;
  readonly env: string;
  readonly description: string;
  /** The value without flag or variable, as `serve --help` shows it. */
  readonly default?: string;
}

/** Every setting of `eventbus serve`, its flag and its environment variable. */
export const SERVE_PARAMETERS = {
  url: {
    flag: "--url <url>",
    env: "EVENTBUS_URL",
    description: "bus URL: memory:// or redis://[user:pass@]host:port[/db]",
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
  jwtSecret: {
    env: "EVENTBUS_JWT_SECRET",
    description: "HS256 secret (at least 32 bytes); turns access control on",
  },
  jwtPublicKeyFile: {
    flag: "--jwt-public-key-file <path>",
    env: "EVENTBUS_JWT_PUBLIC_KEY_FILE",
    description: "PEM public key (RSA, EC or Ed25519); turns access control on",
  },
} as const satisfies Record<string, ServeParameter>;

/** The raw values of {@link SERVE_PARAMETERS}, as flags give them. */
export type ServeFlags = { readonly [K in keyof typeof SERVE_PARAMETERS]?: string | undefined };

const MAX_TIMER_MS = 2 ** 31 - 1;

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
    const value = flags[key] ?? env[SERVE_PARAMETERS[key].env];
    return value === "" ? undefined : value;
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

/**
 * True for an address only this machine can reach: `localhost`, 127.0.0.0/8,
 * `::1` (or its IPv4-mapped form). Without access control the gateway listens
 * on nothing else.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1" || bare.startsWith("::ffff:127.");
}
