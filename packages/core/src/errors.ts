/**
 * Every error the bus raises, each a class with a stable `code`.
 *
 * Callers branch on `error.code` (it survives bundling, realms and
 * serialisation, where `instanceof` may not). The catalogue below is the one
 * list of codes; `docs/errors.md` documents each, and a test keeps the two equal.
 */

/** The stable codes of every error the bus raises. */
export const ErrorCode = {
  VALIDATION: "EVENTBUS_VALIDATION",
  INVALID_CHANNEL: "EVENTBUS_INVALID_CHANNEL",
  CHANNEL_MISMATCH: "EVENTBUS_CHANNEL_MISMATCH",
  EVENT_TOO_LARGE: "EVENTBUS_EVENT_TOO_LARGE",
  MALFORMED_MESSAGE: "EVENTBUS_MALFORMED_MESSAGE",
  SLOW_CONSUMER: "EVENTBUS_SLOW_CONSUMER",
  CLOSED: "EVENTBUS_CLOSED",
  UNSUPPORTED_URL: "EVENTBUS_UNSUPPORTED_URL",
  NOT_CONNECTED: "EVENTBUS_NOT_CONNECTED",
  CONNECTION_REJECTED: "EVENTBUS_CONNECTION_REJECTED",
  SUBSCRIBE_FAILED: "EVENTBUS_SUBSCRIBE_FAILED",
  PUBLISH_FAILED: "EVENTBUS_PUBLISH_FAILED",
  INVALID_POSITION: "EVENTBUS_INVALID_POSITION",
  HISTORY_READ_FAILED: "EVENTBUS_HISTORY_READ_FAILED",
  HISTORY_DISABLED: "EVENTBUS_HISTORY_DISABLED",
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every error the bus raises; `code` says which one it is. */
export abstract class EventBusError extends Error {
  abstract readonly code: ErrorCode;
}

/** One thing wrong with an input: where (a path of keys and indices) and what. */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * An event (or an event's input) is not valid; `issues` lists each field that is
 * wrong and why. Raised by `createEvent`, `publish` and `decodeEvent`; nothing
 * that raises it has been published.
 */
export class ValidationError extends EventBusError {
  override readonly name = "ValidationError";
  readonly code = ErrorCode.VALIDATION;
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options?: ErrorOptions) {
    super(`invalid event: ${formatIssues(issues)}`, options);
    this.issues = issues;
  }
}

function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ` : "") + issue.message)
    .join("; ");
}

/**
 * A channel name or the id used to build one is not one the bus accepts: only
 * `<prefix>:project:<uuid>` and `<prefix>:agent:<uuid>` are, so no caller-supplied
 * text can name another channel or a pattern.
 */
export class InvalidChannelError extends EventBusError {
  override readonly name = "InvalidChannelError";
  readonly code = ErrorCode.INVALID_CHANNEL;
  readonly channel: string;

  constructor(channel: string, reason: string) {
    super(`invalid channel ${JSON.stringify(channel)}: ${reason}`);
    this.channel = channel;
  }
}

/** An event was published to a project channel of another project. Nothing was published. */
export class ChannelMismatchError extends EventBusError {
  override readonly name = "ChannelMismatchError";
  readonly code = ErrorCode.CHANNEL_MISMATCH;
  readonly channel: string;
  readonly projectId: string;

  constructor(channel: string, projectId: string) {
    super(`event of project ${projectId} cannot be published to ${channel}`);
    this.channel = channel;
    this.projectId = projectId;
  }
}

/** An encoded event is larger than the bus's `maxEventBytes`. Nothing was published. */
export class EventTooLargeError extends EventBusError {
  override readonly name = "EventTooLargeError";
  readonly code = ErrorCode.EVENT_TOO_LARGE;
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`encoded event is ${bytes} bytes, over the limit of ${limit}`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Why a message on the wire could not be delivered as an event. */
export type MalformedReason = "json" | "schema" | "channel-mismatch";

/**
 * A message received on a channel is not a valid event: not JSON, not of the
 * event's shape, or of another project than its channel's. It was skipped; the
 * subscription goes on. Reported through `bus.on("malformed", ...)`.
 */
export class MalformedMessageError extends EventBusError {
  override readonly name = "MalformedMessageError";
  readonly code = ErrorCode.MALFORMED_MESSAGE;
  readonly channel: string;
  readonly reason: MalformedReason;
  /** The start of the raw message (at most 1 KiB), for logs. */
  readonly excerpt: string;

  constructor(channel: string, reason: MalformedReason, data: string, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`malformed message on ${channel} (${reason})${detail}`, options);
    this.channel = channel;
    this.reason = reason;
    this.excerpt = data.length > 1024 ? `${data.slice(0, 1024)}…` : data;
  }
}

/**
 * A subscriber fell behind: its buffer held `bufferSize` events when another
 * arrived. The subscription has ended; the events it buffered were delivered
 * first. Choose an `overflow` drop policy to shed load instead.
 */
export class SlowConsumerError extends EventBusError {
  override readonly name = "SlowConsumerError";
  readonly code = ErrorCode.SLOW_CONSUMER;
  readonly bufferSize: number;

  constructor(bufferSize: number) {
    super(`subscriber fell behind: ${bufferSize} events buffered, subscription ended`);
    this.bufferSize = bufferSize;
  }
}

/** The bus was closed; it neither publishes nor subscribes any more. */
export class BusClosedError extends EventBusError {
  override readonly name = "BusClosedError";
  readonly code = ErrorCode.CLOSED;

  constructor() {
    super("the event bus is closed");
  }
}

/** `createEventBus` was given a URL whose scheme no transport serves. */
export class UnsupportedUrlError extends EventBusError {
  override readonly name = "UnsupportedUrlError";
  readonly code = ErrorCode.UNSUPPORTED_URL;
  readonly url: string;

  constructor(url: string, reason: string) {
    super(`unsupported event bus URL ${JSON.stringify(redactUrl(url))}: ${reason}`);
    this.url = redactUrl(url);
  }
}

/** Hides the password of a URL, so errors and logs never carry it. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, "$1***@");
}

/**
 * The transport stayed disconnected for longer than the operation waits (for
 * Redis: `connectTimeoutMs` to open the bus or subscribe, `publishTimeoutMs`
 * to publish); the operation was not carried out. Once the bus failed to open
 * with it, every later `publish` and `subscribe` fails with it too: create a
 * new bus to try again.
 */
export class NotConnectedError extends EventBusError {
  override readonly name = "NotConnectedError";
  readonly code = ErrorCode.NOT_CONNECTED;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The server refused the connection itself: a wrong password or user, a
 * missing permission, a database it does not have, or a TLS certificate that
 * is not trusted. Retrying would not help, so opening the bus fails at once
 * with it rather than after `connectTimeoutMs`; `publish` and
 * `subscription.ready` then reject with it. Fix the configuration.
 */
export class ConnectionRejectedError extends EventBusError {
  override readonly name = "ConnectionRejectedError";
  readonly code = ErrorCode.CONNECTION_REJECTED;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The server refused or failed a subscription; `subscription.ready` rejects with it. */
export class SubscribeFailedError extends EventBusError {
  override readonly name = "SubscribeFailedError";
  readonly code = ErrorCode.SUBSCRIBE_FAILED;
  readonly channels: readonly string[];

  constructor(channels: readonly string[], options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`could not subscribe to ${channels.join(", ")}${detail}`, options);
    this.channels = channels;
  }
}

/**
 * The transport failed to publish (the server answered with an error, or the
 * connection failed mid-command). The event may not have been published.
 */
export class PublishFailedError extends EventBusError {
  override readonly name = "PublishFailedError";
  readonly code = ErrorCode.PUBLISH_FAILED;
  readonly channel: string;

  constructor(channel: string, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`could not publish to ${channel}${detail}`, options);
    this.channel = channel;
  }
}

/**
 * A string given as a history position is not one: empty, too long, not of
 * the form the bus writes (`<epoch>.<offset>[.<fingerprint>]`), or with an
 * offset beyond 2^53 - 1. Raised by `parsePosition`, before anything is read;
 * a well-formed position of another epoch is not an error but a read that is
 * not complete.
 */
export class InvalidPositionError extends EventBusError {
  override readonly name = "InvalidPositionError";
  readonly code = ErrorCode.INVALID_POSITION;
  /** The start of the string (at most 100 characters), for logs. */
  readonly position: string;

  constructor(position: string, reason: string) {
    const excerpt = position.length > 100 ? `${position.slice(0, 100)}…` : position;
    super(`invalid history position ${JSON.stringify(excerpt)}: ${reason}`);
    this.position = excerpt;
  }
}

/**
 * The history of a channel could not be read: the server answered with an
 * error or the connection failed during the read. Nothing was read; reading
 * again is safe.
 */
export class HistoryReadFailedError extends EventBusError {
  override readonly name = "HistoryReadFailedError";
  readonly code = ErrorCode.HISTORY_READ_FAILED;
  readonly channel: string;

  constructor(channel: string, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`could not read the history of ${channel}${detail}`, options);
    this.channel = channel;
  }
}

/**
 * A history operation (`bus.history`) was asked of a bus built without
 * history (`createEventBus(url, { history: true })` turns it on). Nothing was read.
 */
export class HistoryDisabledError extends EventBusError {
  override readonly name = "HistoryDisabledError";
  readonly code = ErrorCode.HISTORY_DISABLED;

  constructor() {
    super("this bus keeps no history: create it with the history option");
  }
}
