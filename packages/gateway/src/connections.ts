/**
 * The server's sockets and whether each is serving a request, so a graceful
 * shutdown can close every socket that is not. Node's own `server.close()`
 * closes idle keep-alive sockets but leaves open those that connected and
 * never sent a request (browsers and HTTP clients open such sockets ahead of
 * need), which would hold shutdown until the client gives up on them.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Counts requests in flight per socket; see the module comment. */
export class Connections {
  readonly #inFlight = new Map<Socket, number>();
  #draining = false;

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      this.#inFlight.set(socket, 0);
      socket.once("close", () => this.#inFlight.delete(socket));
    });
    server.on("request", (request, response) => {
      const socket: Socket = request.socket;
      this.#inFlight.set(socket, (this.#inFlight.get(socket) ?? 0) + 1);
      response.once("close", () => {
        const left = (this.#inFlight.get(socket) ?? 1) - 1;
        this.#inFlight.set(socket, left);
        if (this.#draining && left === 0) socket.destroy();
      });
    });
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
