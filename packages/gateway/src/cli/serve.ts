/** `eventbus serve`: runs the gateway until SIGTERM or SIGINT, then shuts it down gracefully. */
import type { Command } from "commander";
import { openBus } from "./open-bus.js";
import {
  resolveServeConfig,
  SERVE_PARAMETERS,
  type ServeFlags,
  type ServeParameter,
} from "./serve-config.js";

/** Adds the `serve` command to `program`, with one flag per setting that has one. */
export function serveCommand(program: Command): void {
  const command = program
    .command("serve")
    .description("run the gateway: HTTP publish, SSE streams, metrics and the web console");
  const parameters: readonly ServeParameter[] = Object.values(SERVE_PARAMETERS);
  for (const parameter of parameters) {
    if (parameter.flag === undefined) continue;
    const fallback = parameter.default === undefined ? "" : `, default: ${parameter.default}`;
    const description = `${parameter.description} (env ${parameter.env}${fallback})`;
    if (parameter.kind === "list") {
      command.option(parameter.flag, description, (value: string, previous: string[] = []) => [
        ...previous,
        value,
      ]);
    } else {
      command.option(parameter.flag, description);
    }
  }
  command.addHelpText(
    "after",
    `\nAccess control is on when ${SERVE_PARAMETERS.jwtSecret.env} (${SERVE_PARAMETERS.jwtSecret.description}), a public key file or a JWKS URL is set.`,
  );
  command.action(async (flags: ServeFlags) => {
    const config = resolveServeConfig(flags, process.env);
    // Loaded here, not at the top: tail, publish and token start without Fastify and pino.
    const [{ createGateway }, { pino }] = await Promise.all([
      import("../gateway.js"),
      import("pino"),
    ]);
    const stopping = new AbortController();
    const onSignal = (): void => stopping.abort();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    const log = pino({ level: config.logLevel }, process.stderr);
    const bus = await openBus(config.url, {
      connectTimeoutMs: config.connectTimeoutMs,
      history: config.history,
      log,
      signal: stopping.signal,
    });
    if (bus === undefined) return;
    const gateway = createGateway({ ...config, bus, logStream: process.stderr });
    const shutdown = async (): Promise<void> => {
      process.stdout.write("Shutting down: ending streams, closing the bus\n");
      await gateway.close();
      await bus.close();
    };
    const url = await gateway
      .listen({ host: config.host, port: config.port })
      .catch(async (error: unknown) => {
        await shutdown();
        throw error;
      });
    const kind =
      config.url === undefined || config.url.startsWith("memory:") ? "in-memory" : "Redis";
    process.stdout.write(
      [
        `EventBus gateway listening on ${url} (bus: ${kind})`,
        `Console: ${url}/`,
        gateway.accessControl
          ? "Access control: on (every /v1 request needs a token)"
          : "Access control: off (no JWT secret or public key), so listening on loopback only",
        "",
      ].join("\n"),
    );
    const onStop = (): void => {
      shutdown().catch((error: unknown) => {
        process.stderr.write(`eventbus: shutdown failed: ${String(error)}\n`);
        process.exitCode = 1;
      });
    };
    if (stopping.signal.aborted) onStop();
    else stopping.signal.addEventListener("abort", onStop, { once: true });
  });
}
