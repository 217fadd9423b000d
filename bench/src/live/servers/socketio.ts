import { once } from "node:events";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { baseUrl, HOST, type StartServer } from "./types.js";

/**
 * Socket.IO 4 with `@socket.io/redis-adapter` on node-redis, as its docs set
 * it up, WebSocket transport only (no long-polling upgrade). Each client names
 * its project in the handshake query and is put in that project's room; the
 * server says `joined` once it is, and the events come from a backend
 * service through `@socket.io/redis-emitter` (the load generator).
 * `pingTimeout` is two minutes, not 20 s: on the shared benchmark machine a
 * client behind on a burst missed its heartbeat and was dropped, failing the
 * run; the heartbeat is not what the scenarios measure.
 */
export const startSocketIo: StartServer = async (redisUrl) => {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const io = new Server(http, {
    transports: ["websocket"],
    serveClient: false,
    pingTimeout: 120_000,
    adapter: createAdapter(pub, sub),
  });
  io.on("connection", (socket) => {
    const project = socket.handshake.query.project;
    if (typeof project !== "string") {
      socket.disconnect(true);
      return;
    }
    socket.join(project);
    socket.emit("joined");
  });
  // The adapter's PSUBSCRIBE is not awaitable; wait until the server has it.
  while (Number(await pub.sendCommand(["PUBSUB", "NUMPAT"])) === 0) await sleep(5);
  http.listen(0, HOST);
  await once(http, "listening");
  return {
    url: baseUrl(http.address()),
    close: async () => {
      await io.close();
      await Promise.all([pub.close(), sub.close()]);
    },
  };
};
