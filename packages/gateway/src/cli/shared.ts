/** The options `tail` and `publish` share: where to connect and with which token. */
import { type Command, Option } from "commander";
import { DEFAULT_HOST, DEFAULT_PORT } from "../config.js";
import { endpoint } from "./args.js";

/** The environment variable that may hold the token, so it stays out of the process list. */
const TOKEN_ENV = "EVENTBUS_TOKEN";

/** The gateway `eventbus serve` runs by default. */
const DEFAULT_ENDPOINT = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** What {@link connectionOptions} adds to a command's options. */
export interface ConnectionOptions {
  readonly url: URL;
  readonly token?: string;
}

/** Adds `--url` (a gateway or a Redis bus) and `--token` to `command`. */
export function connectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--url <url>", "a gateway (http://...) or, to skip it, a Redis bus (redis://...)")
        .argParser(endpoint)
        .default(new URL(DEFAULT_ENDPOINT), DEFAULT_ENDPOINT),
    )
    .addOption(
      new Option("--token <jwt>", "access token for a gateway with access control").env(TOKEN_ENV),
    );
}
