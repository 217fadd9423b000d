/** `eventbus token`: mints an access token for given projects, agents and scopes. */
import { type Command, Option } from "commander";
import { ConfigError } from "../errors.js";
import { mintToken } from "../token.js";
import { seconds, uuidOrAnyList } from "./args.js";
import { readKeyFile, SERVE_PARAMETERS } from "./serve-config.js";

interface TokenOptions {
  readonly project?: string[];
  readonly agent?: string[];
  readonly publish?: boolean;
  readonly ttl: number;
  readonly subject?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly privateKey?: string;
}

/** Adds the `token` command to `program`. */
export function tokenCommand(program: Command): void {
  program
    .command("token")
    .description(
      `mint an access token, signed with ${SERVE_PARAMETERS.jwtSecret.env} (or --private-key), printed on stdout`,
    )
    .addOption(
      new Option(
        "--project <uuid>",
        "a project the token may read; repeat for more, * for all",
      ).argParser(uuidOrAnyList),
    )
    .addOption(
      new Option(
        "--agent <uuid>",
        "an agent the token may read; repeat for more, * for all",
      ).argParser(uuidOrAnyList),
    )
    .option("--publish", "the token may also publish to those projects and agents")
    .addOption(
      new Option("--ttl <duration>", "lifetime: seconds, or 90s, 15m, 12h, 7d")
        .argParser(seconds)
        .default(3600, "1h"),
    )
    .option("--subject <sub>", "who the token is for (the sub claim)")
    .option("--issuer <iss>", "the iss claim, for a gateway run with --issuer")
    .option("--audience <aud>", "the aud claim, for a gateway run with --audience")
    .option("--private-key <file>", "sign with this PEM private key instead of the secret")
    .action(async (options: TokenOptions) => {
      if (options.project === undefined && options.agent === undefined) {
        throw new ConfigError("name at least one --project or --agent");
      }
      const secret = process.env[SERVE_PARAMETERS.jwtSecret.env] || undefined;
      if (secret === undefined && options.privateKey === undefined) {
        throw new ConfigError(`set ${SERVE_PARAMETERS.jwtSecret.env} or give --private-key`);
      }
      const token = await mintToken({
        projects: options.project ?? [],
        agents: options.agent ?? [],
        publish: options.publish === true,
        ttlSeconds: options.ttl,
        subject: options.subject,
        issuer: options.issuer,
        audience: options.audience,
        ...(options.privateKey === undefined
          ? { secret }
          : { privateKeyPem: readKeyFile(options.privateKey, "private key") }),
      });
      process.stdout.write(`${token}\n`);
    });
}
