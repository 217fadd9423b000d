/**
 * The `eventbus` command: `serve`, `tail`, `publish` and `token`. Bad input
 * exits with status 1 and a message naming the option; a refusal by the
 * gateway exits with status 1 and the gateway's code, message and issues.
 */
import { readFileSync } from "node:fs";
import { EventBusError } from "@eventbus/core";
import { Command } from "commander";
import { GatewayError } from "../errors.js";
import { publishCommand } from "./publish.js";
import { RefusedError } from "./remote-errors.js";
import { serveCommand } from "./serve.js";
import { tailCommand } from "./tail.js";
import { tokenCommand } from "./token.js";

const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };

const program = new Command("eventbus")
  .description("EventBus: publish and follow project and agent events; run the HTTP/SSE gateway")
  .version(version, "-V, --version", "print the version of @eventbus/gateway")
  .showHelpAfterError("(add --help for usage)");
for (const add of [serveCommand, tailCommand, publishCommand, tokenCommand]) add(program);

try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`eventbus: ${describe(error)}\n`);
  process.exitCode = 1;
}

function describe(error: unknown): string {
  if (error instanceof RefusedError) {
    const issues = error.issues.map((issue) => `\n  ${issue.path.join(".")}: ${issue.message}`);
    return `refused (${error.code}): ${error.message}${issues.join("")}`;
  }
  if (error instanceof GatewayError || error instanceof EventBusError) {
    return `${error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
