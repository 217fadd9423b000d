/**
 * GET /v1/projects/{projectId}/events and GET /v1/agents/{agentId}/events:
 * follow a channel live over Server-Sent Events, resuming after a position
 * when history is on. The route authorizes and parses; a `StreamSession`
 * serves the stream.
 */
import { type Delivery, type Event, encodeEvent } from "@eventbus/core";
import type { FastifyInstance } from "fastify";
import { Frames } from "../frames.js";
import { parseRequestPart, StreamQuerySchema, typesQueryOf } from "../http-schemas.js";
import { formatReload, formatStart, reloadOf } from "../recovery-frames.js";
import { RESUME_HEADER, resumePointOf } from "../resume-point.js";
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
 * disconnected`, then `event: reconnected` with the downtime).
 *
 * With history on, each event's `id:` is its position. A stream resumes
 * after the `Last-Event-ID` header (or `?last_event_id=`): the missed events,
 * then live ones, none twice. It sends `event: start` with the channel's
 * position once it has caught up, and `event: reload` wherever events are
 * missing and cannot be recovered (a resume point that is not a position
 * included), so a client never takes a partial stream for a complete one.
 *
 * A stream ends when the client leaves, the token expires
 * (`event: error`, `GATEWAY_TOKEN_EXPIRED`), the client falls `streamBuffer`
 * events behind (`event: error`, `EVENTBUS_SLOW_CONSUMER`), or the gateway
 * shuts down (a comment, then the end).
 */
export function registerStreamRoutes(app: FastifyInstance, deps: StreamDependencies): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const frames = new Frames(app.log);
  const formatOf = (event: Event): string => formatEvent(event, deps.bus.positionOf(event));
  // Shared by every stream of both routes, so a stream holds no closure of its own.
  const frameOf = (delivery: Delivery): string | undefined => {
    switch (delivery.kind) {
      case "event":
        return frames.of(delivery.event, formatOf);
      case "gap":
        return formatReload(reloadOf(delivery));
      case "start":
        return formatStart(delivery.recovery);
    }
  };
  // Asked to resume from something that is not a position: nothing can be replayed.
  const frameAfterInvalidResume = (delivery: Delivery): string | undefined => {
    if (delivery.kind !== "start") return frameOf(delivery);
    const { position } = delivery.recovery;
    return (
      formatReload({ reason: "invalid-position", after: undefined, position }) + frameOf(delivery)
    );
  };
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    // No automatic HEAD route: a HEAD request would hold a stream open that sends nothing.
    app.get(EVENTS_ROUTE[kind], { onRequest, exposeHeadRoute: false }, async (request, reply) => {
      const { address, channel } = targetOf(deps.bus, kind, request.params);
      const access = deps.guard.accessOf(request);
      access.assertRead(address);
      const query = parseRequestPart("query", StreamQuerySchema, typesQueryOf(request.query));
      const resume = resumePointOf(request.headers[RESUME_HEADER], query.last_event_id);
      const frame = resume.kind === "invalid" ? frameAfterInvalidResume : frameOf;
      const since = resume.kind === "position" ? resume.position : undefined;
      await openStream(request, reply, deps, {
        kind,
        expiresAt: access.expiresAt,
        types: query.types,
        feeds: [{ channel, since, frame }],
      });
    });
  }
}

/**
 * An event's SSE message on a one-channel stream: `event:` its type, `id:`
 * its position (none for an event without one: history off, or published
 * with a plain `PUBLISH`), `data:` the wire JSON.
 */
function formatEvent(event: Event, position: string | undefined): string {
  return formatMessage({
    event: event.type,
    ...(position === undefined ? {} : { id: position }),
    data: encodeEvent(event),
  });
}
