/**
 * POST /v1/projects/{projectId}/events and POST /v1/agents/{agentId}/events:
 * publish one event, validated as the bus validates everything it publishes.
 */
import { randomUUID } from "node:crypto";
import { type EventBus, encodeEvent, parseWireEvent, ValidationError } from "@eventbus/core";
import type { FastifyInstance, preParsingAsyncHookHandler } from "fastify";
import type { Guard } from "../guard.js";
import { assertJsonUtf8 } from "../media-type.js";
import { EVENTS_ROUTE, type TargetKind, targetOf } from "./target.js";

/**
 * Registers both publish routes. The body is an event in the wire format;
 * `id`, `timestamp` and `payload` are filled when absent (a fresh UUID, now,
 * `{}`), and on the project route `project_id` defaults to the path's (a body
 * naming another project is refused by the bus with `EVENTBUS_CHANNEL_MISMATCH`).
 * Answers 202 with the published event in the wire format; 415 for a body
 * that is not UTF-8 JSON or has no `Content-Type`.
 */
export function registerPublishRoutes(app: FastifyInstance, bus: EventBus, guard: Guard): void {
  const onRequest = guard.hook({ allowQueryAndCookie: false });
  // After the token (401 comes first), before the body is read.
  const preParsing: preParsingAsyncHookHandler = async (request, _reply, payload) => {
    assertJsonUtf8(request.headers["content-type"]);
    return payload;
  };
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    app.post(EVENTS_ROUTE[kind], { onRequest, preParsing }, async (request, reply) => {
      const { address, channel } = targetOf(bus, kind, request.params);
      const access = guard.accessOf(request);
      access.assertPublish(address);
      const body = request.body;
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new ValidationError([{ path: [], message: "must be a JSON object" }]);
      }
      const event = parseWireEvent({
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        payload: {},
        ...(kind === "project" ? { project_id: address.id } : {}),
        ...body,
      });
      access.assertPublish({ kind: "project", id: event.project_id });
      await bus.publish(channel, event);
      request.log.debug({ channel, id: event.id, type: event.type }, "published");
      return reply.code(202).type("application/json").send(encodeEvent(event));
    });
  }
}
