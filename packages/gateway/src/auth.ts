/**
 * Who may do what: finds a request's token and verifies it (jose) into an
 * {@link Access}. With no key configured, access control is off and every
 * request gets {@link Access.UNRESTRICTED}.
 */

import type { KeyObject } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { Access, GRANT_CLAIM, readGrant } from "./access.js";
import { AuthUnavailableError, TokenExpiredError, UnauthorizedError } from "./errors.js";
import { JWKS_ALGORITHMS, remoteKeySet } from "./jwks.js";
import { type AuthKeys, algorithmsOf, publicKey, SECRET_ALGORITHM, secretKey } from "./keys.js";

/** The query parameter that may carry a token on stream routes (RFC 6750's name). */
export const TOKEN_QUERY_PARAM = "access_token";

/** The cookie that may carry a token on stream routes. */
export const TOKEN_COOKIE = "eventbus_token";

/** Where a request's token may come from. */
export interface TokenSources {
  readonly headers: IncomingHttpHeaders;
  /** The query string's value of {@link TOKEN_QUERY_PARAM}, if any. */
  readonly queryToken: string | undefined;
  /**
   * Whether the query parameter and cookie count. Only stream routes allow
   * them (a browser's `EventSource` cannot set headers); publishing takes the
   * header alone, so a cookie cannot be replayed by a cross-site form.
   */
  readonly allowQueryAndCookie: boolean;
}

/**
 * The token of a request: `Authorization: Bearer <token>`, else (when
 * allowed) `?access_token=`, else the `eventbus_token` cookie.
 *
 * @throws {UnauthorizedError} if an `Authorization` header is present but not a Bearer token.
 */
export function tokenOf(sources: TokenSources): string | undefined {
  const header = sources.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match?.[1] === undefined)
      throw new UnauthorizedError("expected Authorization: Bearer <token>");
    return match[1];
  }
  if (!sources.allowQueryAndCookie) return undefined;
  return sources.queryToken ?? cookie(sources.headers.cookie, TOKEN_COOKIE);
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at !== -1 && pair.slice(0, at).trim() === name) {
      const value = pair.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** The latest time a claim may name: 9999-12-31T23:59:59Z, in seconds. */
const LATEST_SECONDS = 253_402_300_799;

/** The claims that name a time, in seconds since 1970. */
const TIME_CLAIMS = ["exp", "nbf", "iat"] as const;

/**
 * Refuses a time claim no `Date` can hold or no issuer means (`exp` of 1e308
 * would make an invalid expiry, and a stream's timer fire at once, forever).
 * jose has already checked that each is a number, and `exp` and `nbf` against now.
 *
 * @throws {UnauthorizedError} naming the claim.
 */
function checkTimes(payload: JWTPayload): void {
  for (const claim of TIME_CLAIMS) {
    const seconds = payload[claim];
    if (seconds !== undefined && !(seconds >= 0 && seconds <= LATEST_SECONDS)) {
      throw new UnauthorizedError(
        `invalid access token: "${claim}" must be a time from 1970 to 9999, in seconds`,
      );
    }
  }
}

/** The keys, and what a token's claims must say. */
export interface AuthOptions extends AuthKeys {
  /** When set, a token's `iss` must equal it. */
  readonly issuer?: string | undefined;
  /** When set, a token's `aud` must be (or contain) it. */
  readonly audience?: string | undefined;
  /**
   * The claim holding the {@link Grant} (default `eventbus`): an identity
   * provider may have to use a namespaced name, such as `https://acme.example/eventbus`.
   * The claim is the grant object, or that object as a JSON string (for
   * providers whose claim mappers write strings only).
   */
  readonly grantClaim?: string | undefined;
}

/**
 * Verifies tokens against the configured keys. A token must be a JWT signed
 * with HS256 and the shared secret, with the public key's algorithm, or by a
 * key of the JWKS (a token with a `kid`, or of an algorithm no configured key
 * has, is looked up there); it must carry `exp` and may carry `nbf` and `iat`,
 * each a time from 1970 to 9999; it must match `iss` and `aud` when those are
 * configured; its grant claim is its {@link Grant}.
 */
export class Authenticator {
  /** False when no key is configured: access control is off. */
  readonly enabled: boolean;
  readonly #keys = new Map<string, KeyObject>();
  readonly #keySet: JWTVerifyGetKey | undefined;
  readonly #algorithms: string[];
  readonly #claims: { readonly issuer?: string; readonly audience?: string };
  readonly #grantClaim: string;
  readonly #getKey: JWTVerifyGetKey = (header, token) => {
    const key = this.#keys.get(header.alg ?? "");
    const fromKeySet =
      header.alg !== SECRET_ALGORITHM && (key === undefined || header.kid !== undefined);
    if (this.#keySet !== undefined && fromKeySet) return this.#keySet(header, token);
    // Unreachable: jose refuses an algorithm outside `algorithms` before asking for a key.
    if (key === undefined) throw new errors.JOSEAlgNotAllowed("algorithm not allowed");
    return key;
  };

  /** @throws {ConfigError} for a secret that is too short, a key that is not usable, or a bad JWKS URL. */
  constructor(keys: AuthOptions = {}) {
    if (keys.secret !== undefined) this.#keys.set(SECRET_ALGORITHM, secretKey(keys.secret));
    if (keys.publicKey !== undefined) {
      const key = publicKey(keys.publicKey);
      for (const algorithm of algorithmsOf(key)) this.#keys.set(algorithm, key);
    }
    this.#keySet = keys.jwks === undefined ? undefined : remoteKeySet(keys.jwks);
    const fromKeySet = this.#keySet === undefined ? [] : JWKS_ALGORITHMS;
    this.#algorithms = [...new Set([...this.#keys.keys(), ...fromKeySet])];
    this.#claims = {
      ...(keys.issuer === undefined ? {} : { issuer: keys.issuer }),
      ...(keys.audience === undefined ? {} : { audience: keys.audience }),
    };
    this.#grantClaim = keys.grantClaim ?? GRANT_CLAIM;
    this.enabled = this.#algorithms.length > 0;
  }

  /**
   * The access a request's token grants; unrestricted when access control is off.
   *
   * @throws {UnauthorizedError} no token, or one that is not valid.
   * @throws {TokenExpiredError} the token has expired.
   * @throws {AuthUnavailableError} the identity provider's key set could not be fetched.
   */
  async verify(token: string | undefined): Promise<Access> {
    if (!this.enabled) return Access.UNRESTRICTED;
    if (token === undefined) throw new UnauthorizedError("an access token is required");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, {
        algorithms: this.#algorithms,
        requiredClaims: ["exp"],
        ...this.#claims,
      }));
    } catch (cause) {
      if (cause instanceof AuthUnavailableError) throw cause;
      if (cause instanceof errors.JWTExpired) throw new TokenExpiredError({ cause });
      const reason = cause instanceof errors.JOSEError ? cause.message : "not a valid JWT";
      throw new UnauthorizedError(`invalid access token: ${reason}`, { cause });
    }
    checkTimes(payload);
    const read = readGrant(grantOf(payload[this.#grantClaim]), this.#grantClaim);
    if ("problem" in read) throw new UnauthorizedError(`invalid access token: ${read.problem}`);
    return new Access(read.grant, new Date((payload.exp ?? 0) * 1000));
  }
}

/** A grant claim as an object: JSON text is parsed (some providers write only strings). */
function grantOf(claim: unknown): unknown {
  if (typeof claim !== "string") return claim;
  try {
    return JSON.parse(claim);
  } catch {
    return claim;
  }
}
