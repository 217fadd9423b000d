/**
 * What `tail` and `publish` talk to: a gateway over HTTP and SSE, or a bus
 * straight (Redis), behind one small interface so both commands work on either.
 */
import {
  createEvent,
  createEventBus,
  decodeEvent,
  EVENT_TYPES,
  type Event,
  type EventBus,
  type EventType,
  type JsonObject,
  type ValidationIssue,
} from "@eventbus/core";
import { EventSource } from "eventsource";
import type { Actor } from "./args.js";

/** A project's or an agent's channel. */
export interface ChannelRef {
  readonly kind: "project" | "agent";
  readonly id: string;
}

/** An event to publish; `id` and `timestamp` are filled by the gateway or the bus. */
export interface Draft {
  readonly type: EventType;
  readonly projectId: string;
  readonly actor: Actor;
  readonly payload: JsonObject;
}

/** What `follow` reports as it goes. */
export interface FollowHandlers {
  /** The subscription is confirmed: every event published from now on arrives. */
  onOpen(): void;
  onEvent(event: Event): void;
  /** Something worth telling the user that does not end the command (a reconnect). */
  onNotice(message: string): void;
}

/** A gateway or a bus, as the CLI uses them. */
export interface Remote {
  /** Publishes one event; resolves with the event as published. */
  publish(channel: ChannelRef, draft: Draft): Promise<Event>;
  /**
   * Follows a channel until `signal` aborts (resolves) or the remote refuses
   * or ends it for good (rejects with {@link RefusedError}).
   */
  follow(
    channel: ChannelRef,
    types: ReadonlySet<EventType> | undefined,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * A gateway refused a request or ended a stream for good; `code` is the
 * gateway's stable error code (such as `GATEWAY_FORBIDDEN`).
 */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  readonly code: string;
  readonly issues: readonly ValidationIssue[];

  constructor(code: string, message: string, issues: readonly ValidationIssue[] = []) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}

/** The remote at `url`: `http(s)://` is a gateway, anything else a bus URL. */
export function connect(url: URL, token: string | undefined): Remote {
  return url.protocol === "http:" || url.protocol === "https:"
    ? new GatewayRemote(url, token)
    : new BusRemote(url.href);
}

class GatewayRemote implements Remote {
  readonly #base: URL;
  readonly #headers: Record<string, string>;

  constructor(base: URL, token: string | undefined) {
    this.#base = base;
    this.#headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  async publish(channel: ChannelRef, draft: Draft): Promise<Event> {
    const response = await fetch(this.#url(channel), {
      method: "POST",
      headers: { ...this.#headers, "content-type": "application/json" },
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

  follow(
    channel: ChannelRef,
    types: ReadonlySet<EventType> | undefined,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void> {
    const url = this.#url(channel);
    if (types !== undefined) url.searchParams.set("types", [...types].join(","));
    const headers = this.#headers;
    return new Promise((resolve, reject) => {
      const source = new EventSource(url, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
      });
      const stop = (error?: Error): void => {
        source.close();
        signal.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => stop();
      signal.addEventListener("abort", onAbort, { once: true });
      source.addEventListener("open", () => handlers.onOpen());
      for (const type of EVENT_TYPES) {
        source.addEventListener(type, (message) => handlers.onEvent(decodeEvent(message.data)));
      }
      source.addEventListener("error", (event) => {
        if (event instanceof MessageEvent) {
          // The gateway ended the stream with a reason; an expired token will not come back.
          const reason = JSON.parse(String(event.data)) as { code: string; message: string };
          if (reason.code === "GATEWAY_TOKEN_EXPIRED") {
            stop(new RefusedError(reason.code, reason.message));
          } else {
            handlers.onNotice(
              `stream ended by the gateway (${reason.code}: ${reason.message}); reconnecting`,
            );
          }
        } else if (source.readyState === EventSource.CLOSED) {
          // Refused (not 200): ask once more for the gateway's reason.
          fetch(url, { headers })
            .then(refusal, (cause: Error) => cause)
            .then(stop, stop);
        } else {
          handlers.onNotice(`connection lost (${event.message ?? "network error"}); reconnecting`);
        }
      });
    });
  }

  async close(): Promise<void> {}

  #url(channel: ChannelRef): URL {
    return new URL(`v1/${channel.kind}s/${channel.id}/events`, withSlash(this.#base));
  }
}

class BusRemote implements Remote {
  readonly #bus: EventBus;

  constructor(url: string) {
    this.#bus = createEventBus(url);
  }

  async publish(channel: ChannelRef, draft: Draft): Promise<Event> {
    const event = createEvent({
      type: draft.type,
      project_id: draft.projectId,
      ...draft.actor,
      payload: draft.payload,
    });
    await this.#bus.publish(this.#channel(channel), event);
    return event;
  }

  async follow(
    channel: ChannelRef,
    types: ReadonlySet<EventType> | undefined,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void> {
    const sub = this.#bus.subscribe([this.#channel(channel)], { signal });
    await sub.ready;
    handlers.onOpen();
    for await (const event of sub) {
      if (types === undefined || types.has(event.type)) handlers.onEvent(event);
    }
  }

  close(): Promise<void> {
    return this.#bus.close();
  }

  #channel(channel: ChannelRef): string {
    return channel.kind === "project"
      ? this.#bus.getProjectChannel(channel.id)
      : this.#bus.getAgentChannel(channel.id);
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
    const body = JSON.parse(text) as {
      error: { code: string; message: string; issues?: ValidationIssue[] };
    };
    return new RefusedError(body.error.code, body.error.message, body.error.issues);
  } catch {
    return new RefusedError(`HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
  }
}
