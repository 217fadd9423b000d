/** GET /openapi.json: the gateway's OpenAPI 3.1 description (see openapi.ts), open to all like /metrics. */
import type { FastifyInstance } from "fastify";
import type { oas31 } from "zod-openapi";

/** Registers the description's route; the document is serialised once. */
export function registerOpenApiRoute(app: FastifyInstance, document: oas31.OpenAPIObject): void {
  const body = JSON.stringify(document);
  app.get("/openapi.json", async (_request, reply) =>
    reply.type("application/json; charset=utf-8").send(body),
  );
}
