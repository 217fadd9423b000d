/**
 * GET /v1/events?project=<uuid>&agent=<uuid>...: one SSE stream for several
 * channels, so a dashboard following a project and each of its agents needs
 * one connection (browsers open at most six per origin over HTTP/1.1).
 */
import { type Delivery, type Event, encodeEvent } from "@eventbus/core";
import type { FastifyInstance } from "fastify";
import { Frames } from "../frames.js";
import {
  channelLabel,
  channelsQuerySchema,
  parseRequestPart,
  typesQueryOf,
} from "../http-schemas.js";
import { formatReload, formatStart, reloadOf } from "../recovery-frames.js";
import { RESUME_HEADER, resumePointText } from "../resume-point.js";
import { encodeResumeVector, parseResumeVector } from "../resume-vector.js";
import { formatMessage } from "../sse.js";
import { openStream, type StreamDependencies } from "../stream-session.js";
import { channelOf } from "./target.js";

/** The multi-channel stream's path. */
export const MULTI_STREAM_ROUTE = "/v1/events";

/**
 * Registers the multi-channel stream. Every channel named must be granted by
 * the token (403 names the first that is not); at most `channelsPerStream`
 * channels (400 beyond). Each message is `event:` the type and `data:`
 * `{"channel":"agent:<uuid>","event":<wire JSON>}`. Its `id:` is the event id
 * without history; with history it is the stream's resume vector (each
 * channel's last position, see `resume-vector.ts`), so a reconnecting
 * `EventSource` resumes every channel as a one-channel stream does: the
 * missed events, then `event: start` per channel (naming it), then live ones;
 * `event: reload` naming the channel wherever events cannot be recovered (a
 * resume point that is not a vector of this stream's channels included).
 * Otherwise it behaves as a one-channel stream: the same start, heartbeats,
 * `?types=`, `event: error` endings and per-client quota.
 */
export function registerMultiStreamRoute(
  app: FastifyInstance,
  deps: StreamDependencies,
  channelsPerStream: number,
): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const querySchema = channelsQuerySchema(channelsPerStream);
  // An event object belongs to one channel, so one memo of its data serves every stream.
  const data = new Frames(app.log);
  app.get(MULTI_STREAM_ROUTE, { onRequest, exposeHeadRoute: false }, async (request, reply) => {
    const query = parseRequestPart("query", querySchema, typesQueryOf(request.query));
    const { channels, types } = query;
    const access = deps.guard.accessOf(request);
    for (const address of channels) access.assertRead(address);
    const labels = channels.map(channelLabel);
    const resume = resumePointText(request.headers[RESUME_HEADER], query.last_event_id);
    const since = resume === undefined ? new Map() : parseResumeVector(resume, labels);
    // Each channel's last position on this stream: every `id:` carries them all.
    const positions = new Map<string, string>(since);
    const vector = (label: string, position: string | undefined): string | undefined => {
      if (position !== undefined) positions.set(label, position);
      return encodeResumeVector(positions);
    };
    const feeds = channels.map((address, index) => {
      const label = labels[index] as string;
      const frame = (delivery: Delivery): string | undefined => {
        switch (delivery.kind) {
          case "event": {
            const { event, position } = delivery;
            const text = data.of(event, (of) => channelData(label, of));
            if (text === undefined) return undefined;
            const id =
              deps.bus.positionOf(event) === undefined ? event.id : vector(label, position);
            return formatMessage({
              event: event.type,
              ...(id === undefined ? {} : { id }),
              data: text,
            });
          }
          case "gap":
            return formatReload(
              reloadOf(delivery, { channel: label, id: vector(label, delivery.resumeFrom) }),
            );
          case "start": {
            const { recovery } = delivery;
            const multi = { channel: label, id: vector(label, recovery.position) };
            const start = formatStart(recovery, multi);
            if (since !== undefined) return start;
            // Asked to resume from something that is not this stream's vector: nothing replayed.
            const reload = {
              reason: "invalid-position",
              after: undefined,
              position: recovery.position,
            } as const;
            return formatReload({ ...reload, ...multi }) + start;
          }
        }
      };
      return { channel: channelOf(deps.bus, address), since: since?.get(label), frame };
    });
    const { expiresAt } = access;
    await openStream(request, reply, deps, { kind: "multi", expiresAt, types, feeds });
  });
}

/** The `data:` of an event's message: a `ChannelMessage`. */
function channelData(label: string, event: Event): string {
  return `{"channel":${JSON.stringify(label)},"event":${encodeEvent(event)}}`;
}
