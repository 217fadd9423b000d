import { ChannelNames, WireEventSchema } from "@eventbus/core";
import Fastify from "fastify";
import { createClient } from "redis";
import { HOST, type StartServer } from "./types.js";

/**
 * The yardstick of the HTTP publish scenario: a minimal Fastify route that
 * parses the JSON body (Fastify's parser), validates it with the bus's zod
 * wire schema, PUBLISHes `JSON.stringify` of it with node-redis (default
 * settings) and answers 202 with that JSON, as the gateway answers with the
 * published event. No logger, no auth.
 */
export const startFastifyPublish: StartServer = async (redisUrl) => {
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const names = new ChannelNames();
  const app = Fastify();
  app.post<{ Params: { projectId: string } }>(
    "/v1/projects/:projectId/events",
    async (request, reply) => {
      const channel = names.project(request.params.projectId);
      const event = WireEventSchema.parse(request.body);
      if (event.project_id !== request.params.projectId) {
        return reply.code(400).send({ error: "project mismatch" });
      }
      const data = JSON.stringify(event);
      await redis.publish(channel, data);
      return reply.code(202).type("application/json").send(data);
    },
  );
  const url = await app.listen({ host: HOST, port: 0 });
  return {
    url,
    close: async () => {
      await app.close();
      await redis.close();
    },
  };
};
