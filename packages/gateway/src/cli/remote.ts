/**
 * What `tail` and `publish` talk to: a gateway over HTTP and SSE, or a bus
 * straight (Redis), behind one small interface so both commands work on either.
 */
import type { Event, EventType, HistoryOptions, JsonObject, PositionedEvent } from "@eventbus/core";
import type { Actor } from "./args.js";
import { BusRemote } from "./bus-remote.js";
import { GatewayRemote } from "./gateway-remote.js";

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

/** What `follow` follows: the types to keep (all when undefined), and where to resume from. */
export interface FollowOptions {
  readonly types?: ReadonlySet<EventType> | undefined;
  /** Resume after this position: the retained events after it first, then live ones. */
  readonly since?: string | undefined;
}

/** What `follow` reports as it goes. */
export interface FollowHandlers {
  /** The subscription is confirmed: every event published from now on arrives. */
  onOpen(): void;
  /** A live event, with its position when the remote gave one. */
  onEvent(event: Event, position: string | undefined): void;
  /** Something worth telling the user that does not end the command (a reconnect). */
  onNotice(message: string): void;
}

/** A gateway or a bus, as the CLI uses them. */
export interface Remote {
  /** Publishes one event; resolves with the event as published. */
  publish(channel: ChannelRef, draft: Draft): Promise<Event>;
  /**
   * The channel's latest `count` retained events, oldest first, with their
   * positions; `undefined` when the remote keeps no history.
   * @throws {RefusedError} the gateway refused the read (such as a `count` over its bound).
   */
  recent(channel: ChannelRef, count: number): Promise<readonly PositionedEvent[] | undefined>;
  /**
   * Follows a channel (after `options.since`, when given; a resume that
   * cannot be complete is a notice) until `signal` aborts (resolves) or the remote refuses
   * or ends it for good (rejects with `RefusedError`, or `UnreachableError`
   * when a gateway does not answer the first connection).
   */
  follow(
    channel: ChannelRef,
    options: FollowOptions,
    handlers: FollowHandlers,
    signal: AbortSignal,
  ): Promise<void>;
  close(): Promise<void>;
}

/** How {@link connect} reaches a remote. */
export interface ConnectOptions {
  /** The token for a gateway with access control. */
  readonly token?: string | undefined;
  /**
   * History for a bus URL: the bounds of the CLI's own bus (to read history
   * and know live events' positions), or `false` to publish with plain Pub/Sub.
   */
  readonly busHistory: HistoryOptions | false;
}

/** The remote at `url`: `http(s)://` is a gateway, anything else a bus URL. */
export function connect(url: URL, options: ConnectOptions): Remote {
  return url.protocol === "http:" || url.protocol === "https:"
    ? new GatewayRemote(url, options.token)
    : new BusRemote(url.href, options.busHistory);
}
