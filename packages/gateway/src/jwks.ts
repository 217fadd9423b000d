/**
 * Tokens from an identity provider (Keycloak, Auth0, Cognito...): its signing
 * keys, published as a JSON Web Key Set at a URL, through jose's remote key
 * set. jose caches the set, refetches it when a token names a `kid` it does
 * not hold (at most once per cooldown, so a flood of unknown `kid`s cannot
 * flood the provider) and bounds each fetch with a timeout.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";
import { isLoopback } from "./config.js";
import { AuthUnavailableError, ConfigError } from "./errors.js";

/** Where the key set is and how it is fetched. */
export interface JwksOptions {
  /** The key set's URL: `https://`, or `http://` on a loopback host only. */
  readonly url: string | URL;
  /** Longest wait for the key set, in milliseconds (default 5,000); then 503. */
  readonly timeoutMs?: number;
  /** Least time between two fetches for an unknown `kid`, in milliseconds (default 30,000). */
  readonly cooldownMs?: number;
  /** How long a fetched set is used before it is fetched again, in milliseconds (default 600,000). */
  readonly cacheMaxAgeMs?: number;
}

/**
 * The algorithms a key set's keys may sign with: asymmetric ones only, so a
 * token can never make the gateway treat a public key as an HMAC secret.
 */
export const JWKS_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

/**
 * The key lookup of jose's `jwtVerify` for a remote key set. A key set that
 * cannot be had (unreachable, too slow, not 200, not a key set) throws
 * {@link AuthUnavailableError}; a token whose key is not in the set throws
 * jose's own error, which the caller reports as an invalid token.
 *
 * @throws {ConfigError} for a URL that is not `https://` (or `http://` on loopback).
 */
export function remoteKeySet(options: JwksOptions): JWTVerifyGetKey {
  const url = keySetUrl(options.url);
  const unavailable = (cause: unknown): AuthUnavailableError =>
    new AuthUnavailableError(
      `the identity provider's key set at ${url.origin} could not be fetched; retry later`,
      { cause },
    );
  const keySet = createRemoteJWKSet(url, {
    // A network failure is told apart from a bad token here, where it happens; jose turns a timeout into JWKSTimeout.
    [customFetch]: async (input: string, init: RequestInit) => {
      try {
        return await fetch(input, init);
      } catch (cause) {
        if (cause instanceof Error && cause.name === "TimeoutError") throw cause;
        throw unavailable(cause);
      }
    },
    ...(options.timeoutMs === undefined ? {} : { timeoutDuration: options.timeoutMs }),
    ...(options.cooldownMs === undefined ? {} : { cooldownDuration: options.cooldownMs }),
    ...(options.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: options.cacheMaxAgeMs }),
  });
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (cause) {
      if (cause instanceof AuthUnavailableError) throw cause;
      throw isUnavailable(cause) ? unavailable(cause) : cause;
    }
  };
}

function keySetUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError(`the JWKS URL is not a URL: ${JSON.stringify(String(value))}`, { cause });
  }
  const plainOk = url.protocol === "http:" && isLoopback(url.hostname);
  if (url.protocol !== "https:" && !plainOk) {
    throw new ConfigError(
      `the JWKS URL must be https:// (http:// only on loopback), got ${url.protocol}//${url.host}`,
    );
  }
  return url;
}

/**
 * True for jose's failures of fetching the set: a timeout, a response that is
 * not a key set, or its generic error, which it raises only for a non-200
 * answer or a body that is not JSON. (Network errors are caught at the fetch.)
 */
function isUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  return error instanceof errors.JOSEError && error.code === errors.JOSEError.code;
}
