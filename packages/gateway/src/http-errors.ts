/**
 * How an error becomes an HTTP response: one status per stable code (the
 * gateway's and the core's), and the body `{ error: { code, message, issues? } }`.
 */
import {
  type ErrorCode,
  EventBusError,
  ValidationError,
  type ValidationIssue,
} from "@eventbus/core";
import {
  BodyTooLargeError,
  GatewayError,
  type GatewayErrorCode,
  InternalError,
  InvalidRequestError,
  MalformedBodyError,
  NotFoundError,
  UnsupportedMediaTypeError,
} from "./errors.js";

/** The body of every error response. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly issues?: readonly ValidationIssue[];
  };
}

/** The HTTP status of each code: every gateway and core code has one, or this does not compile. */
const STATUS_OF_CODE = {
  GATEWAY_UNAUTHORIZED: 401,
  GATEWAY_TOKEN_EXPIRED: 401,
  GATEWAY_FORBIDDEN: 403,
  GATEWAY_INVALID_REQUEST: 400,
  GATEWAY_MALFORMED_BODY: 400,
  GATEWAY_BODY_TOO_LARGE: 413,
  GATEWAY_UNSUPPORTED_MEDIA_TYPE: 415,
  GATEWAY_NOT_FOUND: 404,
  GATEWAY_NOT_READY: 503,
  GATEWAY_CONFIG: 500,
  GATEWAY_INTERNAL: 500,
  EVENTBUS_VALIDATION: 400,
  EVENTBUS_INVALID_CHANNEL: 400,
  EVENTBUS_CHANNEL_MISMATCH: 400,
  EVENTBUS_EVENT_TOO_LARGE: 413,
  EVENTBUS_MALFORMED_MESSAGE: 500,
  EVENTBUS_SLOW_CONSUMER: 500,
  EVENTBUS_CLOSED: 503,
  EVENTBUS_UNSUPPORTED_URL: 500,
  EVENTBUS_NOT_CONNECTED: 503,
  EVENTBUS_CONNECTION_REJECTED: 503,
  EVENTBUS_SUBSCRIBE_FAILED: 503,
  EVENTBUS_PUBLISH_FAILED: 503,
  EVENTBUS_INVALID_POSITION: 400,
  EVENTBUS_HISTORY_READ_FAILED: 503,
} as const satisfies Record<GatewayErrorCode | ErrorCode, number>;

/** Fastify's own request errors, as the gateway's. */
const FASTIFY_ERRORS: Readonly<Record<string, (message: string) => GatewayError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (message) => new BodyTooLargeError(message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (message) => new MalformedBodyError(message),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new UnsupportedMediaTypeError("the body must be JSON (Content-Type: application/json)"),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new MalformedBodyError("the JSON body is empty"),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new MalformedBodyError("the body is not valid JSON"),
  FST_ERR_NOT_FOUND: (message) => new NotFoundError(message),
};

/** The status and body for any error a request ran into; unknown ones become a bare 500. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  const known = asKnown(error);
  const issues =
    known instanceof ValidationError || known instanceof InvalidRequestError
      ? { issues: known.issues }
      : {};
  return {
    status: STATUS_OF_CODE[known.code],
    body: { error: { code: known.code, message: known.message, ...issues } },
  };
}

function asKnown(error: unknown): GatewayError | EventBusError {
  if (error instanceof GatewayError || error instanceof EventBusError) return error;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const fastify = typeof code === "string" ? FASTIFY_ERRORS[code] : undefined;
    if (fastify !== undefined) return fastify(error.message);
    // A body fastify's JSON parser refused (a syntax error, a `__proto__` key) carries status 400.
    if ((error as { statusCode?: unknown }).statusCode === 400) {
      return new MalformedBodyError(`the body is not valid JSON: ${error.message}`);
    }
  }
  return new InternalError({ cause: error });
}

/** The error for a path or query parameter that is not valid. */
export function invalidParameter(
  where: "params" | "query",
  name: string,
  message: string,
): InvalidRequestError {
  return new InvalidRequestError([{ path: [where, name], message }]);
}
