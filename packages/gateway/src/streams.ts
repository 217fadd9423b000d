/**
 * The gateway's open SSE streams: one heartbeat timer for all of them (not
 * one per stream), and ending them all at shutdown.
 */
import type { SseStream } from "./sse.js";

/** The comment every open stream gets at each heartbeat. */
const HEARTBEAT_COMMENT = "heartbeat";

/**
 * The set of open streams. A stream joins with {@link add} and leaves by
 * itself when its connection closes. The heartbeat runs only while a stream is open.
 */
export class OpenStreams {
  /** Each open stream, and how its owner ends it with a comment. */
  readonly #streams = new Map<SseStream, (comment: string) => void>();
  readonly #heartbeatMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** Tracks `stream` until its connection closes; {@link endAll} ends it through `end`. */
  add(stream: SseStream, end: (comment: string) => void): void {
    this.#streams.set(stream, end);
    this.#timer ??= setInterval(() => this.#beat(), this.#heartbeatMs).unref();
    stream.closed.then(() => {
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#stop();
    });
  }

  /**
   * Writes one formatted message to every open stream, even one whose socket
   * is backed up: a note such as the bus's disconnection must not be skipped,
   * and it is one small message per change, not a flow.
   */
  broadcast(formatted: string): void {
    for (const stream of this.#streams.keys()) stream.send(formatted);
  }

  /** Ends every open stream cleanly with `comment` (clients may reconnect elsewhere), for shutdown. */
  endAll(comment: string): void {
    for (const end of this.#streams.values()) end(comment);
  }

  #beat(): void {
    for (const stream of this.#streams.keys()) stream.comment(HEARTBEAT_COMMENT);
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
