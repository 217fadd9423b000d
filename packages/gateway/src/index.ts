/**
 * `@eventbus/gateway`: publish events over HTTP, follow projects and agents
 * live over Server-Sent Events, token-scoped access, Prometheus metrics and a
 * web console, on an `@eventbus/core` bus. The `eventbus` CLI runs it.
 */
export { Access, ANY, GRANT_CLAIM, type Grant } from "./access.js";
export { type AuthOptions, TOKEN_COOKIE, TOKEN_QUERY_PARAM } from "./auth.js";
export { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SETTINGS, type GatewaySettings } from "./config.js";
export type { CorsOptions } from "./cors.js";
export {
  AuthUnavailableError,
  BodyTooLargeError,
  ConfigError,
  ForbiddenError,
  GatewayError,
  GatewayErrorCode,
  InternalError,
  InvalidRequestError,
  MalformedBodyError,
  NotFoundError,
  NotReadyError,
  RateLimitedError,
  TokenExpiredError,
  TooManyStreamsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from "./errors.js";
export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  type ListenOptions,
} from "./gateway.js";
export type { ErrorBody } from "./http-errors.js";
export type { JwksOptions } from "./jwks.js";
export type { AuthKeys } from "./keys.js";
export { DEFAULT_LIMITS, type LimitSettings } from "./limits.js";
export { type MintOptions, mintToken } from "./token.js";
