/**
 * The gateway's open SSE streams: one heartbeat timer for all of them (not
 * one per stream), and ending them all at shutdown.
 */

/** The comment every open stream gets at each heartbeat. */
const HEARTBEAT_COMMENT = "heartbeat";

/** What {@link OpenStreams} needs of a stream. */
export interface OpenStream {
  /** Writes one formatted message, even if the socket's buffer is full. */
  send(formatted: string): void;
  /** Writes a comment unless the socket's buffer is full. */
  comment(text: string): void;
  /** Ends the stream cleanly after `comment`, and its connection (shutdown); the client may reconnect. */
  endWith(comment: string): void;
}

/**
 * The set of open streams. A stream joins with {@link add} and leaves with
 * {@link delete} when its connection closes. The heartbeat runs only while a
 * stream is open.
 */
export class OpenStreams {
  readonly #streams = new Set<OpenStream>();
  readonly #heartbeatMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** The comment of {@link endAll}, once called: a stream added later is ended with it at once. */
  #endedWith: string | undefined;

  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /**
   * Tracks `stream` until {@link delete}; {@link endAll} ends it. After
   * {@link endAll}, ends it at once instead: a stream whose subscription was
   * confirmed during shutdown would otherwise hold the shutdown open.
   */
  add(stream: OpenStream): void {
    if (this.#endedWith !== undefined) {
      stream.endWith(this.#endedWith);
      return;
    }
    this.#streams.add(stream);
    this.#timer ??= setInterval(() => this.#beat(), this.#heartbeatMs).unref();
  }

  /** Stops tracking `stream` (its connection has closed). */
  delete(stream: OpenStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0) this.#stop();
  }

  /**
   * Writes one formatted message to every open stream, even one whose socket
   * is backed up: a note such as the bus's disconnection must not be skipped,
   * and it is one small message per change, not a flow.
   */
  broadcast(formatted: string): void {
    for (const stream of this.#streams) stream.send(formatted);
  }

  /**
   * Ends every open stream cleanly with `comment` (clients may reconnect
   * elsewhere), and every stream added from now on, for shutdown.
   */
  endAll(comment: string): void {
    this.#endedWith = comment;
    for (const stream of this.#streams) stream.endWith(comment);
  }

  #beat(): void {
    for (const stream of this.#streams) stream.comment(HEARTBEAT_COMMENT);
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
