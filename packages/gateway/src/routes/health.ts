/**
 * GET /healthz (the process answers), GET /readyz (the bus's transport is
 * connected) and GET /metrics (Prometheus text format). Open to all: they
 * carry no event data. Their requests are not logged, nor is a 503 from
 * `/readyz`: the bus's connection changes are logged once each instead.
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
  // Probes and scrapes come every few seconds: their requests are not logged (warn and above only).
  const quiet = { logLevel: "warn" } as const;
  app.get("/healthz", quiet, async () => ({ status: "ok" }));
  app.get("/readyz", quiet, async () => {
    if (!bus.connected) throw new NotReadyError("the bus's transport is not connected");
    return { status: "ready" };
  });
  app.get("/metrics", quiet, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
