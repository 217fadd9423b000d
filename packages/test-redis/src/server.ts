/**
 * One throw-away `redis-server` process: on a free port of 127.0.0.1, with
 * persistence off and its own temporary directory, stopped by its pid.
 *
 * @example
 * const server = await startRedisServer();
 * try {
 *   const bus = createEventBus(server.url);
 *   // ...
 * } finally {
 *   await server.stop();
 * }
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";

/** How {@link startRedisServer} starts a server. Every field is optional. */
export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `["--client-output-buffer-limit", "pubsub 1mb 0 0"]`. */
  readonly args?: readonly string[];
  /** Require this password (`--requirepass`); `url` then carries it. */
  readonly password?: string;
  /**
   * Serve TLS only, with a fresh self-signed certificate for `localhost` made
   * by `openssl`; `url` is then `rediss://localhost:<port>` and `ca` holds the
   * certificate to trust.
   */
  readonly tls?: boolean;
  /** How long to wait for the server to accept connections (default 10 s). */
  readonly startTimeoutMs?: number;
  /** The executable (default: `$REDIS_SERVER`, else `redis-server` on the `PATH`). */
  readonly binary?: string;
}

/** A running test server. Call {@link RedisServer.stop} when done, also after `kill`. */
export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:<port>`, or `rediss://[:password@]localhost:<port>` with `tls`. */
  readonly url: string;
  /** The port it listens on; the same after {@link restart}. */
  readonly port: number;
  /** The pid of the current process (a new one after {@link restart}). */
  readonly pid: number;
  /** With `tls`, the PEM certificate a client must trust; otherwise `undefined`. */
  readonly ca: string | undefined;
  /**
   * Stops the server (SIGTERM, then SIGKILL if it has not exited within 5 s),
   * waits for its exit and removes its temporary directory. Idempotent.
   */
  stop(): Promise<void>;
  /** Sends `signal` (default `SIGKILL`) to the process and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts a stopped or killed server again on the same port (stopping it
   * first if it runs) and waits until it accepts connections. Nothing
   * survives: persistence is off.
   * @throws {Error} if it does not accept connections within `startTimeoutMs`.
   */
  restart(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 10;
const INSTALL_HINT =
  "install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), " +
  "or point $REDIS_SERVER at the executable";

/** Processes still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a `redis-server` on a free port of 127.0.0.1 (`--save ""
 * --appendonly no`, a temporary `--dir`) and resolves once it accepts
 * connections: it polls with a deadline, it does not sleep a fixed time.
 *
 * @throws {Error} if `redis-server` is missing (the message says how to
 *   install it), exits at start (its output is in the message), or does not
 *   accept connections within `startTimeoutMs`.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? process.env.REDIS_SERVER ?? "redis-server";
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dir = await mkdtemp(join(tmpdir(), "eventbus-redis-"));
  try {
    const ca = options.tls === true ? await makeCertificate(dir) : undefined;
    const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
    const argsFor = (port: number): string[] => [
      ...(ca === undefined
        ? ["--port", String(port)]
        : ["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"]),
      ...(ca === undefined
        ? []
        : ["--tls-cert-file", join(dir, "cert.pem"), "--tls-key-file", join(dir, "key.pem")]),
      ...["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      ...["--daemonize", "no", "--loglevel", "warning"],
      ...(options.password === undefined ? [] : ["--requirepass", options.password]),
      ...(options.args ?? []),
    ];
    const launch = (port: number): Promise<ChildProcess> =>
      launchServer(binary, argsFor(port), { port, ca, startTimeoutMs });

    let port = 0;
    let child: ChildProcess | undefined;
    // Another process may take the free port before redis-server binds it: try a few.
    for (let attempt = 1; child === undefined; attempt++) {
      port = await freePort();
      try {
        child = await launch(port);
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt === 5) throw error;
      }
    }
    let current: ChildProcess = child;
    const host = ca === undefined ? "127.0.0.1" : "localhost";
    let stopped = false;
    return {
      url: `${ca === undefined ? "redis" : "rediss"}://${auth}${host}:${port}`,
      port,
      ca,
      get pid(): number {
        return current.pid ?? -1;
      },
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await terminate(current);
        await rm(dir, { recursive: true, force: true });
      },
      kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
        return signalAndWait(current, signal);
      },
      async restart(): Promise<void> {
        if (stopped) throw new Error("restart: the server was stopped");
        await terminate(current);
        current = await launch(port);
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortInUseError extends Error {}

async function launchServer(
  binary: string,
  args: string[],
  target: { port: number; ca: string | undefined; startTimeoutMs: number },
): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4096);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new Error(`${binary} not found: ${INSTALL_HINT}`, { cause: error })
          : error,
      );
    });
    child.once("exit", (code, signal) => {
      const detail = `${binary} exited at start (${signal ?? `code ${code}`}): ${output.trim()}`;
      reject(
        /address already in use/i.test(output) ? new PortInUseError(detail) : new Error(detail),
      );
    });
  });
  exited.catch(() => {});
  trackRunning(child);
  try {
    await Promise.race([exited, waitUntilAccepting(target)]);
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return child;
}

/** Polls with PING until the server answers (any reply but `-LOADING`), or the deadline passes. */
async function waitUntilAccepting(target: {
  port: number;
  ca: string | undefined;
  startTimeoutMs: number;
}): Promise<void> {
  const deadline = Date.now() + target.startTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const reply = await ping(target.port, target.ca, deadline - Date.now());
      if (!reply.startsWith("-LOADING")) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(
    `redis-server on port ${target.port} did not accept connections within ${target.startTimeoutMs} ms`,
    { cause: lastError },
  );
}

/** Sends one inline PING and resolves with the first reply line. */
function ping(port: number, ca: string | undefined, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket =
      ca === undefined
        ? createConnection({ host: "127.0.0.1", port })
        : connectTls({ host: "127.0.0.1", servername: "localhost", port, ca });
    let received = "";
    socket.setTimeout(Math.max(1, timeoutMs), () => socket.destroy(new Error("PING timed out")));
    socket.once("error", reject);
    socket.once(ca === undefined ? "connect" : "secureConnect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      const end = received.indexOf("\r\n");
      if (end === -1) return;
      socket.destroy();
      resolve(received.slice(0, end));
    });
    socket.once("close", () => reject(new Error("connection closed before a reply")));
  });
}

/** A port of 127.0.0.1 that was free a moment ago (another process may still take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  const exit = once(child, "exit");
  process.kill(child.pid, signal);
  await exit;
}

/** SIGTERM, then SIGKILL if the process outlives the grace period. */
async function terminate(child: ChildProcess): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  const exit = once(child, "exit");
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (!hasExited(child) && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
  }, STOP_GRACE_MS);
  try {
    await exit;
  } finally {
    clearTimeout(timer);
  }
}

function trackRunning(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.once("error", () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const orphan of running) if (orphan.pid !== undefined) process.kill(orphan.pid, "SIGKILL");
  });
}

/** Writes a self-signed certificate for localhost / 127.0.0.1 into `dir`; returns its PEM. */
async function makeCertificate(dir: string): Promise<string> {
  const args = [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2"],
    ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
  ];
  await new Promise<void>((resolve, reject) => {
    execFile("openssl", args, (error) => {
      if (error === null) resolve();
      else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("openssl not found: install it with `apt-get install -y openssl`"));
      } else reject(error);
    });
  });
  return readFile(join(dir, "cert.pem"), "utf8");
}
