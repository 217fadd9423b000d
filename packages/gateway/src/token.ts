/**
 * Minting gateway tokens: what `eventbus token` runs, and what tests and
 * services use to call a gateway with access control on.
 */
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { GRANT_CLAIM, type Grant, readGrant } from "./access.js";
import { ConfigError } from "./errors.js";
import { algorithmsOf, privateKey, SECRET_ALGORITHM, secretKey } from "./keys.js";

/** What {@link mintToken} needs: a grant, a lifetime and one signing key. */
export interface MintOptions {
  /** Project UUIDs the token may read (and publish to, with `publish`), or `"*"`. */
  readonly projects?: readonly string[];
  /** Agent UUIDs likewise (default none). */
  readonly agents?: readonly string[];
  /** Whether the token may publish (default false). */
  readonly publish?: boolean;
  /** Seconds from now until it expires; gateways require an expiry. */
  readonly ttlSeconds: number;
  /** Who the token is for, as the `sub` claim (optional, for logs). */
  readonly subject?: string | undefined;
  /** The `iss` claim, for a gateway that checks it (`--issuer`). */
  readonly issuer?: string | undefined;
  /** The `aud` claim, for a gateway that checks it (`--audience`). */
  readonly audience?: string | undefined;
  /** The shared HS256 secret (at least 32 bytes) the gateway verifies with. */
  readonly secret?: string | undefined;
  /** Or a PEM private key, whose public half the gateway is configured with. */
  readonly privateKeyPem?: string | undefined;
}

/**
 * Signs a JWT carrying `{ "eventbus": { projects, agents, publish } }`, `exp`,
 * `iat`, a `jti` and optionally `sub`, `iss` and `aud`.
 *
 * @throws {ConfigError} without exactly one key, for a bad key, a non-positive
 * `ttlSeconds`, or a project or agent that is not a UUID or `"*"`.
 * @example
 * const token = await mintToken({ projects: [projectId], ttlSeconds: 3600, secret });
 */
export async function mintToken(options: MintOptions): Promise<string> {
  if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new ConfigError(`ttl must be a positive number of seconds, got ${options.ttlSeconds}`);
  }
  if ((options.secret === undefined) === (options.privateKeyPem === undefined)) {
    throw new ConfigError("give exactly one of a secret or a private key to sign with");
  }
  const grant = toGrant(options);
  const [key, algorithm] =
    options.secret === undefined
      ? signingKey(options.privateKeyPem ?? "")
      : [secretKey(options.secret), SECRET_ALGORITHM];
  const jwt = new SignJWT({ [GRANT_CLAIM]: grant })
    .setProtectedHeader({ alg: algorithm, typ: "JWT" })
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(key);
}

function toGrant(options: MintOptions): Grant {
  const read = readGrant({
    projects: options.projects ?? [],
    agents: options.agents ?? [],
    publish: options.publish ?? false,
  });
  if ("problem" in read) throw new ConfigError(`invalid grant: ${read.problem}`);
  return read.grant;
}

function signingKey(pem: string): [ReturnType<typeof privateKey>, string] {
  const key = privateKey(pem);
  const [algorithm] = algorithmsOf(key);
  // algorithmsOf never returns an empty list; it throws for a key it does not know.
  return [key, algorithm ?? ""];
}
