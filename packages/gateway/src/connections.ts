/**
 * The server's sockets at shutdown, and how many are open. Fastify's close
 * calls Node's `server.close()` after the `preClose` hooks; since Node 19 that
 * also closes every idle keep-alive socket (the ended SSE streams' included)
 * but leaves two kinds open: sockets that connected and never sent a request
 * (browsers and HTTP clients open such sockets ahead of need; Node counts them
 * as busy), which would hold the shutdown until the client gives up on them,
 * and sockets whose request was in flight, kept alive after the answer until
 * the keep-alive timeout. {@link Connections} closes both. Nothing here is
 * held per request or per open stream (see docs/performance.md, section 7).
 */
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** How many sockets that closed unused {@link Connections} may hold before a sweep, beyond twice the open ones. */
const SWEEP_SLACK = 64;

/**
 * Tracks the sockets that have not sent a request yet (from `connection` to
 * their first request) and, once {@link drain} is called, has every answer
 * close its socket; the count comes from the server itself.
 */
export class Connections {
  readonly #server: Server;
  /** Sockets that have not sent a request, and some that closed without one (see {@link #sweep}). */
  readonly #unused = new Set<Socket>();
  /** The size of {@link #unused} after the last sweep. */
  #swept = 0;
  #draining = false;

  /** Listens to `app`'s server and adds an `onSend` hook; call before `app` is ready. */
  constructor(app: FastifyInstance) {
    const server = app.server;
    this.#server = server;
    server.on("connection", (socket: Socket) => {
      if (this.#draining) {
        socket.destroy();
        return;
      }
      this.#unused.add(socket);
      if (this.#unused.size > 2 * this.#swept + SWEEP_SLACK) this.#sweep();
    });
    server.on("request", ({ socket }: IncomingMessage) => {
      this.#unused.delete(socket);
    });
    // Node then ends the socket once the answer is written (an SSE stream never gets here: it
    // is hijacked, and shutdown ends it, which leaves its socket idle for `server.close()`).
    app.addHook("onSend", (_request, reply, payload, done) => {
      if (this.#draining) reply.header("connection", "close");
      done(null, payload);
    });
  }

  /** How many sockets the server holds open now (what `eventbus_http_connections` reports). */
  count(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
    });
  }

  /**
   * Closes every socket that has not sent a request, and from now on each new
   * socket at once and each socket as soon as its request is answered.
   */
  drain(): void {
    this.#draining = true;
    for (const socket of this.#unused) socket.destroy();
    this.#unused.clear();
  }

  /**
   * Forgets the sockets that closed without sending a request. A `close`
   * listener on each socket would do it at once, but one still there when
   * Node adds its own to a socket's first request makes Node's listener
   * array grow to 19 slots, about 0.15 KB for as long as an SSE stream is
   * open. Sweeping once the set has doubled since the last sweep costs a
   * constant time per connection.
   */
  #sweep(): void {
    for (const socket of this.#unused) if (socket.destroyed) this.#unused.delete(socket);
    this.#swept = this.#unused.size;
  }
}
