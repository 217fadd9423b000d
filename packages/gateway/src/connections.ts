/**
 * The server's sockets and whether each is serving a request, so a graceful
 * shutdown can close every socket that is not. Node's own `server.close()`
 * closes idle keep-alive sockets but leaves open those that connected and
 * never sent a request (browsers and HTTP clients open such sockets ahead of
 * need), which would hold shutdown until the client gives up on them.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Counts requests in flight per open socket; see the module comment. A socket
 * is tracked from its `connection` to its `close` and never after: a response
 * that closes after its socket (every SSE stream does) finds it gone and
 * leaves it gone.
 */
export class Connections {
  readonly #inFlight = new Map<Socket, number>();
  #draining = false;

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      this.#inFlight.set(socket, 0);
      // 'close' is emitted once: `on` spares the wrapper that `once` allocates, per socket.
      socket.on("close", () => this.#inFlight.delete(socket));
    });
    server.on("request", (request, response) => {
      const socket: Socket = request.socket;
      const before = this.#inFlight.get(socket);
      if (before === undefined) return;
      this.#inFlight.set(socket, before + 1);
      response.on("close", () => {
        const left = (this.#inFlight.get(socket) ?? 0) - 1;
        // The socket closed first: it is no longer ours to count.
        if (left < 0) return;
        this.#inFlight.set(socket, left);
        if (this.#draining && left === 0) socket.destroy();
      });
    });
  }

  /** How many sockets are open (what `eventbus_http_connections` reports). */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * Closes every socket without a request in flight now, and from now on each
   * socket as soon as its last request is answered.
   */
  drain(): void {
    this.#draining = true;
    for (const [socket, requests] of this.#inFlight) if (requests === 0) socket.destroy();
  }
}
