import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import { ChannelNames } from "@eventbus/core";
import { createClient } from "redis";
import { baseUrl, HOST, type StartServer } from "./types.js";

const ROUTE = /^\/v1\/projects\/([0-9a-f-]{36})\/events$/;

/**
 * The raw baseline of the fan-out scenarios: a minimal `node:http` SSE server
 * on one node-redis subscriber connection, writing each Redis message as
 * `data: <message>` to every client of its channel, formatted once. No
 * validation, no auth, no backpressure, no heartbeat. A stream answers once
 * its channel's SUBSCRIBE is confirmed, as the gateway's does.
 */
export const startRawSse: StartServer = async (redisUrl) => {
  const subscriber = createClient({ url: redisUrl });
  await subscriber.connect();
  const names = new ChannelNames();
  const clients = new Map<string, Set<ServerResponse>>();
  const subscribed = new Map<string, Promise<void>>();

  const subscribe = (channel: string): Promise<void> => {
    let done = subscribed.get(channel);
    if (done === undefined) {
      const set = new Set<ServerResponse>();
      clients.set(channel, set);
      done = subscriber.subscribe(channel, (message: string) => {
        const frame = `data: ${message}\n\n`;
        for (const res of set) res.write(frame);
      });
      subscribed.set(channel, done);
    }
    return done;
  };

  const server = createServer((req, res) => {
    const match = ROUTE.exec(req.url ?? "");
    if (req.method !== "GET" || match === null) {
      res.writeHead(404).end();
      return;
    }
    const channel = names.project(match[1] as string);
    subscribe(channel).then(() => {
      const set = clients.get(channel);
      if (set === undefined || res.destroyed) return;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("retry: 3000\n\n");
      set.add(res);
      res.once("close", () => set.delete(res));
    });
  });
  server.listen(0, HOST);
  await once(server, "listening");
  return {
    url: baseUrl(server.address()),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await subscriber.close();
    },
  };
};
