/**
 * How an error becomes an HTTP response: one status per stable code (the
 * gateway's and the core's), and the body `{ error: { code, message, issues? } }`.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import {
  ErrorCode,
  EventBusError,
  type ValidationError,
  type ValidationIssue,
} from "@eventbus/core";
import {
  BodyTooLargeError,
  GatewayError,
  GatewayErrorCode,
  HeadersTooLargeError,
  InternalError,
  type InvalidRequestError,
  MalformedBodyError,
  MalformedRequestError,
  NotFoundError,
  RequestTimeoutError,
  UnsupportedMediaTypeError,
  UriTooLongError,
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
export const STATUS_OF_CODE = {
  GATEWAY_UNAUTHORIZED: 401,
  GATEWAY_TOKEN_EXPIRED: 401,
  GATEWAY_FORBIDDEN: 403,
  GATEWAY_INVALID_REQUEST: 400,
  GATEWAY_MALFORMED_REQUEST: 400,
  GATEWAY_URI_TOO_LONG: 414,
  GATEWAY_HEADERS_TOO_LARGE: 431,
  GATEWAY_REQUEST_TIMEOUT: 408,
  GATEWAY_HOST_NOT_ALLOWED: 403,
  GATEWAY_MALFORMED_BODY: 400,
  GATEWAY_BODY_TOO_LARGE: 413,
  GATEWAY_UNSUPPORTED_MEDIA_TYPE: 415,
  GATEWAY_NOT_FOUND: 404,
  GATEWAY_NOT_READY: 503,
  GATEWAY_RATE_LIMITED: 429,
  GATEWAY_TOO_MANY_STREAMS: 429,
  GATEWAY_AUTH_UNAVAILABLE: 503,
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
  EVENTBUS_HISTORY_DISABLED: 404,
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
  FST_ERR_BAD_URL: () => new MalformedRequestError("the URL's path is not valid percent-encoding"),
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new UriTooLongError("a path segment is longer than any id the gateway serves"),
  // What Node's HTTP parser reports (through the server's clientError event).
  HPE_HEADER_OVERFLOW: () =>
    new HeadersTooLargeError("the request line and headers are over the size limit"),
  ERR_HTTP_REQUEST_TIMEOUT: () => new RequestTimeoutError("the request was not received in time"),
};

/**
 * What clients are told instead of the bus's own message: for its connection
 * and read failures, whose messages name the Redis server's address and the
 * driver's reason (those go to the log, never to a client); for history off,
 * the gateway's terms rather than the library's.
 */
const PUBLIC_MESSAGE: Partial<Record<ErrorCode, string>> = {
  EVENTBUS_NOT_CONNECTED: "the gateway is not connected to the bus; try again later",
  EVENTBUS_CONNECTION_REJECTED: "the bus refused the gateway's connection; try again later",
  EVENTBUS_SUBSCRIBE_FAILED: "the bus could not subscribe to the channel; try again later",
  EVENTBUS_PUBLISH_FAILED:
    "the bus connection failed while publishing: the event may or may not have been published",
  EVENTBUS_HISTORY_READ_FAILED: "the bus could not read the channel's history; try again later",
  EVENTBUS_HISTORY_DISABLED:
    "this gateway keeps no history (eventbus serve --no-history); follow the stream instead",
};

/** The status and body for any error a request ran into; unknown ones become a bare 500. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  const known = asKnown(error);
  // Branch on the stable code, as docs/errors.md says clients do: the two codes that carry issues.
  const issues =
    known.code === ErrorCode.VALIDATION || known.code === GatewayErrorCode.INVALID_REQUEST
      ? { issues: (known as ValidationError | InvalidRequestError).issues }
      : {};
  const message = PUBLIC_MESSAGE[known.code as ErrorCode] ?? known.message;
  return {
    status: STATUS_OF_CODE[known.code],
    body: { error: { code: known.code, message, ...issues } },
  };
}

/**
 * The response to an error Node's HTTP parser met before any route ran (a
 * request that is not HTTP, headers over the limit, a body shorter than its
 * `Content-Length`): any code not known otherwise is a malformed request.
 */
export function toClientErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  const known = fastifyError(error) !== undefined;
  return toHttpError(known ? error : new MalformedRequestError("the request is not valid HTTP"));
}

/**
 * Writes {@link toClientErrorResponse} straight to the socket (no route, no
 * reply: the request never parsed) and closes it; what Fastify's
 * `clientErrorHandler` does, in the gateway's error shape.
 */
export function writeClientError(error: Error, socket: Duplex): void {
  // A reset socket is gone; there is no one to answer.
  if ((error as NodeJS.ErrnoException).code === "ECONNRESET" || socket.destroyed) return;
  const { status, body } = toClientErrorResponse(error);
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        "content-type: application/json; charset=utf-8\r\n" +
        `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/** The gateway's error for one of Fastify's (or Node's parser's) error codes, if it has one. */
function fastifyError(error: unknown): ((message: string) => GatewayError) | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && Object.hasOwn(FASTIFY_ERRORS, code)
    ? FASTIFY_ERRORS[code]
    : undefined;
}

function asKnown(error: unknown): GatewayError | EventBusError {
  if (error instanceof GatewayError || error instanceof EventBusError) return error;
  if (error instanceof Error) {
    const fastify = fastifyError(error);
    if (fastify !== undefined) return fastify(error.message);
    // A body fastify's JSON parser refused (a syntax error, a `__proto__` key) carries status 400.
    if ((error as { statusCode?: unknown }).statusCode === 400) {
      return new MalformedBodyError(`the body is not valid JSON: ${error.message}`);
    }
  }
  return new InternalError({ cause: error });
}
