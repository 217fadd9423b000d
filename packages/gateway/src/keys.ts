/**
 * Signing keys: which JWS algorithms a key may verify or sign with, and the
 * checks on a shared secret. Used by token verification (auth.ts) and minting
 * (token.ts), so both agree on what a key means.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError } from "./errors.js";
import type { JwksOptions } from "./jwks.js";

/** The HMAC algorithm used with a shared secret. */
export const SECRET_ALGORITHM = "HS256";

/** A shared secret shorter than this (in bytes) is refused: HS256 needs 256 bits to be worth its name. */
const MIN_SECRET_BYTES = 32;

/**
 * The key material that turns access control on: a shared `secret` (HS256),
 * a `publicKey` (PEM text or a `KeyObject`; RSA, EC P-256/384/521 or Ed25519)
 * whose private half an identity provider signs with, an identity provider's
 * key set (`jwks`), or several of them.
 */
export interface AuthKeys {
  readonly secret?: string | undefined;
  readonly publicKey?: string | KeyObject | undefined;
  readonly jwks?: JwksOptions | undefined;
}

/**
 * The HMAC key of a shared secret.
 * @throws {ConfigError} if it is shorter than {@link MIN_SECRET_BYTES}.
 */
export function secretKey(secret: string): KeyObject {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new ConfigError(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return createSecretKey(Buffer.from(secret));
}

/**
 * A public key from PEM text, or the `KeyObject` given.
 * @throws {ConfigError} if it is not a public key in PEM.
 */
export function publicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== "string") return key;
  try {
    return createPublicKey(key);
  } catch (cause) {
    throw new ConfigError("the JWT public key is not a PEM public key", { cause });
  }
}

/**
 * A private key from PEM text.
 * @throws {ConfigError} if it is not a private key in PEM.
 */
export function privateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (cause) {
    throw new ConfigError("the private key is not a PEM private key", { cause });
  }
}

const CURVE_ALGORITHMS: Readonly<Record<string, string>> = {
  prime256v1: "ES256",
  secp384r1: "ES384",
  secp521r1: "ES512",
};

/**
 * The JWS algorithms an asymmetric key is used with; the first is the one to sign with.
 * Naming them from the key (never from the token's header) is what stops
 * algorithm-confusion attacks.
 *
 * @throws {ConfigError} for a key type JWTs are not signed with here.
 */
export function algorithmsOf(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return ["RS256", "RS384", "RS512"];
    case "rsa-pss":
      return ["PS256", "PS384", "PS512"];
    case "ed25519":
      return ["EdDSA", "Ed25519"];
    case "ec": {
      const algorithm = CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ""];
      if (algorithm !== undefined) return [algorithm];
    }
  }
  throw new ConfigError(
    `unsupported key type ${key.asymmetricKeyType ?? "secret"}: use RSA, EC P-256/384/521 or Ed25519`,
  );
}
