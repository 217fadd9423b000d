/**
 * The load generator's clients: each follows one project and reports the
 * `payload.seq` of every event it receives. The SSE client is a bare TCP
 * socket speaking just enough HTTP/1.1 (one GET, then scanning the body for
 * `"seq":`), so the load generator costs little per delivery and the figures
 * measure the server; the Socket.IO client is socket.io-client itself.
 */
import { connect as connectTcp, type Socket } from "node:net";
import { io, type Socket as SocketIoSocket } from "socket.io-client";
import type { Sink } from "../contenders.js";

/** An open client. */
export interface LiveClient {
  close(): void;
}

/** How long a client may take to open before the run fails. */
const OPEN_TIMEOUT_MS = 30_000;

const SEQ = '"seq":';
/** The longest text that may end a chunk and still be the start of `"seq":<digits>`. */
const CARRY = SEQ.length + 12;

/**
 * Scans SSE body text for `"seq":<digits>` across chunk boundaries. The body
 * may be chunk-encoded: chunk headers never fall inside a message, since the
 * servers write each message whole.
 */
export class SeqScanner {
  #carry = "";
  readonly #sink: Sink;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  push(chunk: string): void {
    const text = this.#carry === "" ? chunk : this.#carry + chunk;
    let from = 0;
    for (;;) {
      const at = text.indexOf(SEQ, from);
      if (at === -1) break;
      let end = at + SEQ.length;
      let seq = 0;
      for (; end < text.length; end++) {
        const digit = text.charCodeAt(end) - 48;
        if (digit < 0 || digit > 9) break;
        seq = seq * 10 + digit;
      }
      if (end === text.length) {
        from = at;
        this.#carry = text.slice(at);
        return;
      }
      this.#sink(seq);
      from = end;
    }
    this.#carry = text.slice(Math.max(from, text.length - CARRY));
  }
}

/** Where a client reports each delivery, and that its connection was lost after it opened. */
export interface ClientReports {
  readonly sink: Sink;
  readonly lost: (error: Error) => void;
}

/**
 * Opens an SSE stream with a bare socket: resolves once the response's status
 * line says 200 (the servers answer only once subscribed); rejects on any
 * other status, an error, or a close before that.
 */
export function openSse(url: URL, path: string, reports: ClientReports): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp(Number(url.port), url.hostname);
    socket.setEncoding("latin1");
    socket.setNoDelay(true);
    const timer = setTimeout(() => fail(new Error(`SSE ${path}: no answer`)), OPEN_TIMEOUT_MS);
    const scanner = new SeqScanner(reports.sink);
    let head = "";
    let open = false;
    let closing = false;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on("data", (chunk: string) => {
      if (open) {
        scanner.push(chunk);
        return;
      }
      head += chunk;
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      if (!head.startsWith("HTTP/1.1 200")) {
        fail(new Error(`SSE ${path}: ${head.slice(0, head.indexOf("\r\n"))}`));
        return;
      }
      open = true;
      clearTimeout(timer);
      scanner.push(head.slice(end + 4));
      head = "";
      resolve({
        close: () => {
          closing = true;
          socket.destroy();
        },
      });
    });
    socket.once("error", (error) => {
      if (open) reports.lost(error);
      else fail(error);
    });
    socket.once("close", () => {
      if (!open) fail(new Error(`SSE ${path}: closed before the response`));
      else if (!closing) reports.lost(new Error(`SSE ${path}: the server closed the stream`));
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

/**
 * Opens a socket.io-client connection (WebSocket only, no reconnection) for
 * `project`; resolves once the server says it joined the project's room.
 */
export function openSocketIo(
  url: URL,
  project: string,
  reports: ClientReports,
): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const socket: SocketIoSocket = io(url.origin, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      query: { project },
      timeout: OPEN_TIMEOUT_MS,
    });
    let closing = false;
    socket.on("event", (event: { payload: { seq: number } }) => reports.sink(event.payload.seq));
    socket.once("joined", () => {
      socket.once("disconnect", (reason) => {
        if (!closing) reports.lost(new Error(`socket.io client disconnected: ${reason}`));
      });
      resolve({
        close: () => {
          closing = true;
          socket.disconnect();
        },
      });
    });
    socket.once("connect_error", (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}
