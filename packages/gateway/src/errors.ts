/**
 * Every error the gateway raises, each a class with a stable `code`, in the
 * pattern of `@eventbus/core`'s errors. HTTP responses carry the code in
 * `{ error: { code, message, issues? } }`; `docs/gateway.md` documents each
 * code, and a test keeps the two equal.
 */
import type { ValidationIssue } from "@eventbus/core";

/** The stable codes of every error the gateway raises. */
export const GatewayErrorCode = {
  UNAUTHORIZED: "GATEWAY_UNAUTHORIZED",
  TOKEN_EXPIRED: "GATEWAY_TOKEN_EXPIRED",
  FORBIDDEN: "GATEWAY_FORBIDDEN",
  INVALID_REQUEST: "GATEWAY_INVALID_REQUEST",
  MALFORMED_REQUEST: "GATEWAY_MALFORMED_REQUEST",
  URI_TOO_LONG: "GATEWAY_URI_TOO_LONG",
  HEADERS_TOO_LARGE: "GATEWAY_HEADERS_TOO_LARGE",
  REQUEST_TIMEOUT: "GATEWAY_REQUEST_TIMEOUT",
  HOST_NOT_ALLOWED: "GATEWAY_HOST_NOT_ALLOWED",
  MALFORMED_BODY: "GATEWAY_MALFORMED_BODY",
  BODY_TOO_LARGE: "GATEWAY_BODY_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "GATEWAY_UNSUPPORTED_MEDIA_TYPE",
  NOT_FOUND: "GATEWAY_NOT_FOUND",
  NOT_READY: "GATEWAY_NOT_READY",
  RATE_LIMITED: "GATEWAY_RATE_LIMITED",
  TOO_MANY_STREAMS: "GATEWAY_TOO_MANY_STREAMS",
  AUTH_UNAVAILABLE: "GATEWAY_AUTH_UNAVAILABLE",
  CONFIG: "GATEWAY_CONFIG",
  INTERNAL: "GATEWAY_INTERNAL",
} as const;

/** One of the {@link GatewayErrorCode} values. */
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/** One line for a list of issues, `path.to.field: message; ...`, for error messages and logs. */
export function describeIssues(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
): string {
  return issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ");
}

/** The base of every error the gateway raises; `code` says which one it is. */
export abstract class GatewayError extends Error {
  abstract readonly code: GatewayErrorCode;
}

/** The request carries no token, or one that is not valid (bad signature, malformed, wrong claims). */
export class UnauthorizedError extends GatewayError {
  override readonly name = "UnauthorizedError";
  readonly code = GatewayErrorCode.UNAUTHORIZED;
}

/** The token has expired: refused at the door, and the reason an open stream ends at `exp`. */
export class TokenExpiredError extends GatewayError {
  override readonly name = "TokenExpiredError";
  readonly code = GatewayErrorCode.TOKEN_EXPIRED;

  constructor(options?: ErrorOptions) {
    super("the access token has expired", options);
  }
}

/** The token is valid but does not grant this project, agent or publishing. */
export class ForbiddenError extends GatewayError {
  override readonly name = "ForbiddenError";
  readonly code = GatewayErrorCode.FORBIDDEN;
}

/**
 * A path parameter or query parameter is not valid (a malformed UUID, an
 * unknown event type in `?types=`); `issues` says which and why, in the shape
 * of core's `ValidationError`.
 */
export class InvalidRequestError extends GatewayError {
  override readonly name = "InvalidRequestError";
  readonly code = GatewayErrorCode.INVALID_REQUEST;
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    super(`invalid request: ${describeIssues(issues)}`);
    this.issues = issues;
  }
}

/** The request is not valid HTTP, or its path is not valid percent-encoding (`/%ZZ`). */
export class MalformedRequestError extends GatewayError {
  override readonly name = "MalformedRequestError";
  readonly code = GatewayErrorCode.MALFORMED_REQUEST;
}

/** A path segment is longer than any id the gateway serves. */
export class UriTooLongError extends GatewayError {
  override readonly name = "UriTooLongError";
  readonly code = GatewayErrorCode.URI_TOO_LONG;
}

/** The request line and headers are over Node's header size limit. */
export class HeadersTooLargeError extends GatewayError {
  override readonly name = "HeadersTooLargeError";
  readonly code = GatewayErrorCode.HEADERS_TOO_LARGE;
}

/** The client did not send its whole request in time. */
export class RequestTimeoutError extends GatewayError {
  override readonly name = "RequestTimeoutError";
  readonly code = GatewayErrorCode.REQUEST_TIMEOUT;
}

/**
 * With access control off, a `Host` header that is not a loopback name: the
 * request may come from a web page whose name was pointed at this machine
 * (DNS rebinding), so it is refused.
 */
export class HostNotAllowedError extends GatewayError {
  override readonly name = "HostNotAllowedError";
  readonly code = GatewayErrorCode.HOST_NOT_ALLOWED;
}

/** The body says it is JSON but does not parse as JSON, or is empty. */
export class MalformedBodyError extends GatewayError {
  override readonly name = "MalformedBodyError";
  readonly code = GatewayErrorCode.MALFORMED_BODY;
}

/** The body is larger than the gateway's `bodyLimit`, or the event it holds than the bus's bound. */
export class BodyTooLargeError extends GatewayError {
  override readonly name = "BodyTooLargeError";
  readonly code = GatewayErrorCode.BODY_TOO_LARGE;
}

/** The body is not `application/json` in UTF-8, or a request to publish has no `Content-Type`. */
export class UnsupportedMediaTypeError extends GatewayError {
  override readonly name = "UnsupportedMediaTypeError";
  readonly code = GatewayErrorCode.UNSUPPORTED_MEDIA_TYPE;
}

/** No route matches the method and path. */
export class NotFoundError extends GatewayError {
  override readonly name = "NotFoundError";
  readonly code = GatewayErrorCode.NOT_FOUND;
}

/** The bus's transport is not connected (`GET /readyz`), or it failed an operation. */
export class NotReadyError extends GatewayError {
  override readonly name = "NotReadyError";
  readonly code = GatewayErrorCode.NOT_READY;
}

/** A client published more often than the publish rate limit allows; `Retry-After` says when it may again. */
export class RateLimitedError extends GatewayError {
  override readonly name = "RateLimitedError";
  readonly code = GatewayErrorCode.RATE_LIMITED;
}

/** A client (a token, or an address without access control) already holds as many open streams as it may. */
export class TooManyStreamsError extends GatewayError {
  override readonly name = "TooManyStreamsError";
  readonly code = GatewayErrorCode.TOO_MANY_STREAMS;
}

/**
 * The identity provider's key set (JWKS) could not be fetched: unreachable,
 * too slow, or not a key set. The token may well be valid; retry later.
 */
export class AuthUnavailableError extends GatewayError {
  override readonly name = "AuthUnavailableError";
  readonly code = GatewayErrorCode.AUTH_UNAVAILABLE;
}

/** The gateway's configuration (flags, environment, options) is not valid; it does not start. */
export class ConfigError extends GatewayError {
  override readonly name = "ConfigError";
  readonly code = GatewayErrorCode.CONFIG;
}

/** Anything unexpected; the message sent to clients says no more than that. */
export class InternalError extends GatewayError {
  override readonly name = "InternalError";
  readonly code = GatewayErrorCode.INTERNAL;

  constructor(options?: ErrorOptions) {
    super("internal error", options);
  }
}
