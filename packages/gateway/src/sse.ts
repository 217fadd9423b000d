/**
 * The Server-Sent Events wire format and one open SSE response. Knows nothing
 * of events, buses or auth: the stream route feeds it messages.
 */
import type { ServerResponse } from "node:http";

/** One SSE message: `event:` and `id:` lines (optional) and the data, split into `data:` lines. */
export interface SseMessage {
  readonly event?: string;
  readonly id?: string;
  readonly data: string;
}

/** Why a stream was ended by the server, sent to the client as an `event: error` message. */
export interface SseEndReason {
  readonly code: string;
  readonly message: string;
}

const LINE_BREAK = /[\r\n]/;

/**
 * Formats one message. `event` and `id` are single-line fields: a line break
 * there would let the value forge further fields, so it is refused. `data` is
 * split on line breaks into several `data:` lines, which the client joins back.
 *
 * @throws {TypeError} if `event` or `id` contains `\r` or `\n`, or `id` contains NUL.
 */
export function formatMessage(message: SseMessage): string {
  let out = "";
  if (message.event !== undefined) out += `event: ${singleLine("event", message.event)}\n`;
  if (message.id !== undefined) {
    // A NUL makes browsers ignore the id field, so it would silently not update Last-Event-ID.
    if (message.id.includes("\0")) throw new TypeError("SSE id must not contain NUL");
    out += `id: ${singleLine("id", message.id)}\n`;
  }
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** Formats a comment line, which clients ignore: heartbeats and notes to a human reading the stream. */
export function formatComment(text: string): string {
  return `: ${singleLine("comment", text)}\n\n`;
}

/** Formats the `retry:` hint: how long a client waits before reconnecting, in milliseconds. */
export function formatRetry(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`retry must be a non-negative integer, got ${ms}`);
  return `retry: ${ms}\n\n`;
}

function singleLine(field: string, value: string): string {
  if (LINE_BREAK.test(value)) throw new TypeError(`SSE ${field} must not contain \\r or \\n`);
  return value;
}

/** The headers of every SSE response. `X-Accel-Buffering: no` keeps nginx-style proxies from buffering it. */
const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/**
 * One open SSE response. {@link send} says when the socket's buffer is full,
 * so a writer can hold what follows until the response's `drain`. Ending it
 * with a reason ({@link fail}) tells the client why before closing. Either
 * way, a client that does not read up to the end within `graceMs` is cut off,
 * so a stuck client cannot hold memory or delay shutdown. It adds no
 * listener of its own to the response: its owner listens for `close` and
 * calls {@link closed}.
 */
export class SseStream {
  readonly #res: ServerResponse;
  readonly #graceMs: number;
  #ended = false;
  #endReason: SseEndReason | undefined;
  #cutOff: NodeJS.Timeout | undefined;

  /**
   * Writes the status line, headers and the `retry:` hint. The response must
   * not have been written to yet.
   */
  constructor(
    res: ServerResponse,
    options: { readonly retryMs: number; readonly graceMs: number },
  ) {
    this.#res = res;
    this.#graceMs = options.graceMs;
    // Node keeps the head it wrote for as long as the response is open, as the string it built
    // by concatenation: a tree of about twenty V8 cons strings (0.6 KB). Written on its own
    // (`flushHeaders`), it is flattened in place into one string of its length; corked, it
    // still leaves in one write with the retry hint.
    res.cork();
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    res.write(formatRetry(options.retryMs));
    res.uncork();
  }

  /** False once the stream was ended by either side: nothing more is written. */
  get isOpen(): boolean {
    return !this.#ended;
  }

  /**
   * Writes one message, formatted by {@link formatMessage} (callers that send
   * one message to many streams format it once). Returns false when the caller
   * should wait for the response's `drain` before the next one (the socket's
   * buffer is full), or when the stream has ended and the message was not written.
   */
  send(formatted: string): boolean {
    if (this.#ended) return false;
    return this.#res.write(formatted);
  }

  /**
   * Writes a comment unless the socket's buffer is full: a heartbeat must not
   * pile up behind a client that does not read.
   */
  comment(text: string): void {
    if (!this.#ended && !this.#res.writableNeedDrain) this.#res.write(formatComment(text));
  }

  /** Ends the stream cleanly, after an optional comment; the client may reconnect. Idempotent. */
  end(comment?: string): void {
    if (this.#ended) return;
    if (comment !== undefined) this.comment(comment);
    this.#finish();
  }

  /**
   * Ends the stream because of `reason`, sent first as an `event: error`
   * message whose data is `{"code","message"}`. The message is queued even if
   * the socket's buffer is full. Idempotent.
   */
  fail(reason: SseEndReason): void {
    if (this.#ended) return;
    this.#endReason = reason;
    const data = JSON.stringify({ code: reason.code, message: reason.message });
    this.#res.write(formatMessage({ event: "error", data }));
    this.#finish();
  }

  /** The reason given to {@link fail}, if the stream was ended that way. */
  get endReason(): SseEndReason | undefined {
    return this.#endReason;
  }

  /** The connection has closed (its owner heard `close`): nothing more is written, no cut-off is due. */
  closed(): void {
    this.#ended = true;
    clearTimeout(this.#cutOff);
    this.#cutOff = undefined;
  }

  /** Ends the response; a client that has not read up to its end within the grace period is cut off. */
  #finish(): void {
    this.#ended = true;
    this.#res.end();
    if (!this.#res.writableFinished) {
      this.#cutOff = setTimeout(() => this.#res.destroy(), this.#graceMs).unref();
    }
  }
}
