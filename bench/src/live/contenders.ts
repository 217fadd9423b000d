import type { ClientKind, PublisherKind } from "./loadgen-main.js";
import type { ServerName } from "./servers/index.js";

/** A contender of the live scenarios: a server, the clients that follow it, how events reach it. */
export interface LiveContender {
  /** The name in the report. */
  readonly name: string;
  readonly server: ServerName;
  readonly client: ClientKind;
  readonly publisher: PublisherKind;
}

/** Every contender of the live fan-out scenarios. */
export const LIVE = {
  gateway: { name: "gateway", server: "gateway", client: "sse", publisher: "bus" },
  socketIo: {
    name: "socket.io",
    server: "socketio",
    client: "socketio",
    publisher: "socketio-emitter",
  },
  rawSse: { name: "raw-sse", server: "raw-sse", client: "sse", publisher: "raw" },
} as const satisfies Record<string, LiveContender>;
