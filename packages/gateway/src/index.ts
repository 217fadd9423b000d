/**
 * `@eventbus/gateway`: publish events over HTTP, follow projects and agents
 * live over Server-Sent Events, token-scoped access, Prometheus metrics and a
 * web console, on an `@eventbus/core` bus. The `eventbus` CLI runs it.
 */
export { Access, ANY, GRANT_CLAIM, type Grant } from "./access.js";
export { Authenticator, TOKEN_COOKIE, TOKEN_QUERY_PARAM } from "./auth.js";
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SETTINGS,
  type GatewaySettings,
  resolveServeConfig,
  SERVE_PARAMETERS,
  type ServeConfig,
  type ServeFlags,
  type ServeParameter,
} from "./config.js";
export {
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
  TokenExpiredError,
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
export type { AuthKeys } from "./keys.js";
export { type MintOptions, mintToken } from "./token.js";
