/** `eventbus serve`: runs the gateway until SIGTERM or SIGINT, then shuts it down gracefully. */
import type { Command } from "commander";
import {
  resolveServeConfig,
  SERVE_PARAMETERS,
  type ServeFlags,
  type ServeParameter,
} from "../config.js";
import { createGateway } from "../gateway.js";

/** Adds the `serve` command to `program`, with one flag per setting that has one. */
export function serveCommand(program: Command): void {
  const command = program
    .command("serve")
    .description("run the gateway: HTTP publish, SSE streams, metrics and the web console");
  for (const parameter of Object.values(SERVE_PARAMETERS) as ServeParameter[]) {
    if (parameter.flag === undefined) continue;
    const description = `${parameter.description} (env ${parameter.env})`;
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
    const gateway = createGateway({ ...config, logStream: process.stderr });
    const url = await gateway.listen({ host: config.host, port: config.port });
    const bus =
      config.url === undefined || config.url.startsWith("memory:") ? "in-memory" : "Redis";
    process.stdout.write(
      [
        `EventBus gateway listening on ${url} (bus: ${bus})`,
        `Console: ${url}/`,
        gateway.accessControl
          ? "Access control: on (every /v1 request needs a token)"
          : "Access control: off (no JWT secret or public key), so listening on loopback only",
        "",
      ].join("\n"),
    );
    const shutdown = (): void => {
      process.stdout.write("Shutting down: ending streams, closing the bus\n");
      gateway.close().catch((error: unknown) => {
        process.stderr.write(`eventbus: shutdown failed: ${String(error)}\n`);
        process.exitCode = 1;
      });
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  });
}
