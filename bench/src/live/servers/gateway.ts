import { createGateway } from "@eventbus/gateway";
import { HOST, type StartServer } from "./types.js";

/**
 * `@eventbus/gateway` on the bus on Redis, as `eventbus serve --url redis://...
 * --no-history` runs it, with access control off (so loopback only) and logs
 * at `warn`: at `info` Fastify logs two lines per request, which the other
 * servers do not. History off, as the other servers keep none (scenario 13
 * measures what history costs a publish).
 */
export const startGateway: StartServer = async (redisUrl) => {
  const gateway = createGateway({ url: redisUrl, logLevel: "warn", history: false });
  const url = await gateway.listen({ host: HOST, port: 0 });
  return { url, close: () => gateway.close() };
};

/** The same gateway logging at `info` (its default), into a stream that discards the lines. */
export const startGatewayInfoLogs: StartServer = async (redisUrl) => {
  const gateway = createGateway({
    url: redisUrl,
    logLevel: "info",
    logStream: { write() {} },
    history: false,
  });
  const url = await gateway.listen({ host: HOST, port: 0 });
  return { url, close: () => gateway.close() };
};
