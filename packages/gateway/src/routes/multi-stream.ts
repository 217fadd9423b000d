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
import { formatReload, reloadOf } from "../recovery-frames.js";
import { formatMessage } from "../sse.js";
import { openStream, type StreamDependencies } from "../stream-session.js";
import { channelOf } from "./target.js";

/** The multi-channel stream's path. */
export const MULTI_STREAM_ROUTE = "/v1/events";

/**
 * Registers the multi-channel stream. Every channel named must be granted by
 * the token (403 names the first that is not); at most `channelsPerStream`
 * channels (400 beyond). Each message is `event:` the type, `id:` the event
 * id, and `data:` `{"channel":"agent:<uuid>","event":<wire JSON>}`; with
 * history on, missing events that cannot be recovered are an `event: reload`
 * naming the channel. It does not resume (its `id:` lines are not positions).
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
  // An event object belongs to one channel, so one memo serves every label.
  const frames = new Frames(app.log);
  app.get(MULTI_STREAM_ROUTE, { onRequest, exposeHeadRoute: false }, async (request, reply) => {
    const { channels, types } = parseRequestPart("query", querySchema, typesQueryOf(request.query));
    const access = deps.guard.accessOf(request);
    for (const address of channels) access.assertRead(address);
    const feeds = channels.map((address) => {
      const label = channelLabel(address);
      const format = (event: Event): string => formatChannelMessage(label, event);
      const frame = (delivery: Delivery): string | undefined => {
        if (delivery.kind === "event") return frames.of(delivery.event, format);
        return delivery.kind === "gap" ? formatReload(reloadOf(delivery, label)) : undefined;
      };
      return { channel: channelOf(deps.bus, address), frame };
    });
    await openStream(request, reply, deps, { kind: "multi", access, types, feeds });
  });
}

/** An event's message on a multi-channel stream; `data:` is a `ChannelMessage`. */
function formatChannelMessage(label: string, event: Event): string {
  return formatMessage({
    event: event.type,
    id: event.id,
    data: `{"channel":${JSON.stringify(label)},"event":${encodeEvent(event)}}`,
  });
}
