/**
 * GET /healthz (the process answers), GET /readyz (the bus's transport is
 * connected) and GET /metrics (Prometheus text format). Open to all: they
 * carry no event data.
 */
import type { EventBus } from "@eventbus/core";
import type { FastifyInstance } from "fastify";
import { NotReadyError } from "../errors.js";
import type { GatewayMetrics } from "../metrics.js";

/** Registers the health, readiness and metrics routes. */
export function registerHealthRoutes(
  app: FastifyInstance,
  bus: EventBus,
  metrics: GatewayMetrics,
): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async () => {
    if (!bus.connected) throw new NotReadyError("the bus's transport is not connected");
    return { status: "ready" };
  });
  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
