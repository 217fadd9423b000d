/**
 * GET /v1/projects/{projectId}/events and GET /v1/agents/{agentId}/events:
 * follow a channel live over Server-Sent Events. The route authorizes and
 * parses; a `StreamSession` serves the stream.
 */
import { type Event, encodeEvent } from "@eventbus/core";
import type { FastifyInstance } from "fastify";
import { Frames } from "../frames.js";
import { parseRequestPart, StreamQuerySchema, typesQueryOf } from "../http-schemas.js";
import { formatMessage } from "../sse.js";
import { openStream, type StreamDependencies } from "../stream-session.js";
import { EVENTS_ROUTE, type TargetKind, targetOf } from "./target.js";

/**
 * Registers both stream routes. Each stream is one bus subscription; the bus
 * subscribes a channel at the server once however many streams follow it. The
 * response starts (200 and the `retry:` hint) only once the subscription is
 * confirmed, so a client that sees it open receives every event published
 * from then on; while the bus is disconnected it is refused with 503
 * (`GATEWAY_NOT_READY`), and open streams hear of the outage (`event:
 * disconnected`, then `event: reconnected` with the downtime). A stream ends
 * when the client leaves, the token expires
 * (`event: error`, `GATEWAY_TOKEN_EXPIRED`), the client falls `streamBuffer`
 * events behind (`event: error`, `EVENTBUS_SLOW_CONSUMER`), or the gateway
 * shuts down (a comment, then the end).
 */
export function registerStreamRoutes(app: FastifyInstance, deps: StreamDependencies): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const frames = new Frames(app.log);
  const frame = (event: Event): string | undefined => frames.of(event, formatEvent);
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    // No automatic HEAD route: a HEAD request would hold a stream open that sends nothing.
    app.get(EVENTS_ROUTE[kind], { onRequest, exposeHeadRoute: false }, async (request, reply) => {
      const { address, channel } = targetOf(deps.bus, kind, request.params);
      const access = deps.guard.accessOf(request);
      access.assertRead(address);
      const { types } = parseRequestPart("query", StreamQuerySchema, typesQueryOf(request.query));
      await openStream(request, reply, deps, { kind, access, types, feeds: [{ channel, frame }] });
    });
  }
}

/** An event's SSE message on a one-channel stream: `event:` its type, `id:` its id, `data:` the wire JSON. */
function formatEvent(event: Event): string {
  return formatMessage({ event: event.type, id: event.id, data: encodeEvent(event) });
}
