/** `tail` and `publish` through a gateway: HTTP to publish, Server-Sent Events to follow. */
import {
  decodeEvent,
  ErrorCode,
  EVENT_TYPES,
  type Event,
  type PositionedEvent,
  parseWireEvent,
} from "@eventbus/core";
import { EventSource } from "eventsource";
import { BUS_STATUS_EVENTS } from "../bus-status.js";
import { GatewayErrorCode } from "../errors.js";
import type { ErrorBody } from "../http-errors.js";
import { HistoryPageSchema } from "../http-schemas.js";
import { RECOVERY_EVENTS } from "../recovery-frames.js";
import { asPosition, RESUME_QUERY_PARAM } from "../resume-point.js";
import { EVENTS_ROUTE, HISTORY_ROUTE, pathOf } from "../routes/target.js";
import type { SseEndReason } from "../sse.js";
import type { ChannelRef, Draft, FollowHandlers, FollowOptions, Remote } from "./remote.js";
import { networkReason, RefusedError, UnreachableError } from "./remote-errors.js";

/** How long to wait before asking again while the gateway is not connected to its bus (503). */
const NOT_READY_RETRY_MS = 3_000;

/**
 * A gateway at a base URL, with an optional token. A gateway that does not
 * answer at all is an {@link UnreachableError} that says where and what to
 * check. Following reports on stderr what the gateway tells its streams: its
 * bus lost and back, a stream it ended, a connection lost and retried.
 */
export class GatewayRemote implements Remote {
  readonly #base: URL;
  readonly #headers: Record<string, string>;

  constructor(base: URL, token: string | undefined) {
    this.#base = base;
    this.#headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  async publish(channel: ChannelRef, draft: Draft): Promise<Event> {
    const response = await this.#fetch(this.#url(EVENTS_ROUTE, channel), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: draft.type,
        project_id: draft.projectId,
        actor_type: draft.actor.actor_type,
        actor_id: draft.actor.actor_id,
        payload: draft.payload,
      }),
    });
    if (!response.ok) throw await refusal(response);
    return decodeEvent(await response.text());
  }

  async recent(
    channel: ChannelRef,
    count: number,
  ): Promise<readonly PositionedEvent[] | undefined> {
    const url = this.#url(HISTORY_ROUTE, channel);
    url.searchParams.set("limit", String(count));
    const response = await this.#fetch(url, {});
    if (!response.ok) {
      const error = await refusal(response);
      if (error.code === ErrorCode.HISTORY_DISABLED) return undefined;
      throw error;
    }
    const page = HistoryPageSchema.parse(await response.json());
    return page.events.map(({ event, position }) => ({ event: parseWireEvent(event), position }));
  }

  follow(
    channel: ChannelRef,
    options: FollowOptions,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void> {
    const url = this.#url(EVENTS_ROUTE, channel);
    const { types, since } = options;
    if (types !== undefined) url.searchParams.set("types", [...types].join(","));
    // A first connection names its resume point; the SSE client sends Last-Event-ID after that.
    if (since !== undefined) url.searchParams.set(RESUME_QUERY_PARAM, since);
    return new Promise((resolve, reject) => {
      let source: EventSource | undefined;
      let retry: NodeJS.Timeout | undefined;
      let everOpen = false;
      let lastFailure: unknown;
      const stop = (error?: Error): void => {
        source?.close();
        clearTimeout(retry);
        signal.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => stop();
      signal.addEventListener("abort", onAbort, { once: true });
      // The SSE client's fetch, with the token, remembering why a connection failed.
      const fetchStream: typeof fetch = (input, init) =>
        fetch(input, { ...init, headers: { ...init?.headers, ...this.#headers } }).catch(
          (cause: unknown) => {
            lastFailure = cause;
            throw cause;
          },
        );
      const open = (): void => {
        const current = new EventSource(url, { fetch: fetchStream });
        source = current;
        current.addEventListener("open", () => {
          everOpen = true;
          lastFailure = undefined;
          handlers.onOpen();
        });
        for (const type of EVENT_TYPES) {
          current.addEventListener(type, (message) =>
            handlers.onEvent(decodeEvent(message.data), asPosition(message.lastEventId)),
          );
        }
        current.addEventListener(RECOVERY_EVENTS.reload, (message) => {
          const { message: text } = JSON.parse(message.data) as { message: string };
          handlers.onNotice(`the gateway says: ${text}`);
        });
        current.addEventListener(BUS_STATUS_EVENTS.disconnected, (message) => {
          const { at } = JSON.parse(message.data) as { at: string };
          handlers.onNotice(
            `the gateway lost its bus at ${at}: events published until it is back may be lost`,
          );
        });
        current.addEventListener(BUS_STATUS_EVENTS.reconnected, (message) => {
          const { downtime_ms } = JSON.parse(message.data) as { downtime_ms: number };
          handlers.onNotice(
            `the gateway's bus is back after ${downtime_ms} ms: events published meanwhile may have been lost`,
          );
        });
        current.addEventListener("error", (event) => {
          if (event instanceof MessageEvent) {
            // The gateway ended the stream with a reason; an expired token will not come back.
            const reason = JSON.parse(String(event.data)) as SseEndReason;
            if (reason.code === GatewayErrorCode.TOKEN_EXPIRED) {
              stop(new RefusedError(reason.code, reason.message));
            } else {
              handlers.onNotice(
                `stream ended by the gateway (${reason.code}: ${reason.message}); reconnecting`,
              );
            }
          } else if (current.readyState === EventSource.CLOSED) {
            // Refused (not 200): ask once more for the gateway's reason.
            this.#fetch(url, {})
              .then(refusal)
              .then((error) => {
                if (error.code !== GatewayErrorCode.NOT_READY) return stop(error);
                handlers.onNotice(
                  `${error.message} (${error.code}); trying again in ${NOT_READY_RETRY_MS / 1000} s`,
                );
                retry = setTimeout(open, NOT_READY_RETRY_MS);
              }, stop);
          } else if (!everOpen) {
            // The first connection failed: there is no stream to come back to.
            stop(new UnreachableError(this.#base, lastFailure ?? event));
          } else {
            handlers.onNotice(
              `lost the connection to the gateway at ${this.#base.origin} (${networkReason(lastFailure ?? event)}); reconnecting`,
            );
          }
        });
      };
      open();
    });
  }

  async close(): Promise<void> {}

  /** `fetch` with the token; a gateway that does not answer is an {@link UnreachableError}. */
  async #fetch(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, headers: { ...init.headers, ...this.#headers } });
    } catch (cause) {
      throw new UnreachableError(this.#base, cause);
    }
  }

  #url(route: typeof EVENTS_ROUTE | typeof HISTORY_ROUTE, channel: ChannelRef): URL {
    // Relative to the base, so a gateway served under a path prefix works.
    return new URL(pathOf(route, channel).slice(1), withSlash(this.#base));
  }
}

function withSlash(url: URL): URL {
  return url.pathname.endsWith("/") ? url : new URL(`${url.href}/`);
}

/** The gateway's error body as a {@link RefusedError} (a stream response that succeeded is closed). */
async function refusal(response: Response): Promise<RefusedError> {
  if (response.ok) {
    await response.body?.cancel();
    return new RefusedError("STREAM_CLOSED", "the gateway closed the stream");
  }
  const text = await response.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    return new RefusedError(body.error.code, body.error.message, body.error.issues);
  } catch {
    return new RefusedError(`HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
  }
}
