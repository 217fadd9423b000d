import { createGateway } from "@eventbus/gateway";
import { HOST, type StartServer } from "./types.js";

/**
 * `@eventbus/gateway` on the bus on Redis, as `eventbus serve --url redis://...`
 * runs it, with access control off (so loopback only) and logs at `warn`:
 * at `info` Fastify logs two lines per request, which the other servers do not.
 */
export const startGateway: StartServer = async (redisUrl) => {
  const gateway = createGateway({ url: redisUrl, logLevel: "warn" });
  const url = await gateway.listen({ host: HOST, port: 0 });
  return { url, close: () => gateway.close() };
};

/** The same gateway logging at `info` (its default), into a stream that discards the lines. */
export const startGatewayInfoLogs: StartServer = async (redisUrl) => {
  const gateway = createGateway({ url: redisUrl, logLevel: "info", logStream: { write() {} } });
  const url = await gateway.listen({ host: HOST, port: 0 });
  return { url, close: () => gateway.close() };
};
