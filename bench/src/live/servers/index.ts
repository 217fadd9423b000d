import { startFastifyPublish } from "./fastify-publish.js";
import { startGateway, startGatewayInfoLogs } from "./gateway.js";
import { startRawSse } from "./raw-sse.js";
import { startSocketIo } from "./socketio.js";
import type { StartServer } from "./types.js";

/** Every server the live scenarios run, by the name the suite asks its process for. */
export const SERVERS = {
  gateway: startGateway,
  "gateway-info-logs": startGatewayInfoLogs,
  "raw-sse": startRawSse,
  socketio: startSocketIo,
  "fastify-publish": startFastifyPublish,
} as const satisfies Record<string, StartServer>;

/** The name of a server in {@link SERVERS}. */
export type ServerName = keyof typeof SERVERS;
