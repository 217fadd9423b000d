/**
 * What a `/v1/{projects|agents}/{id}/...` path addresses, checked once for
 * the publish, stream and history routes.
 */
import type { ChannelAddress, EventBus } from "@eventbus/core";
import { AgentParamsSchema, ProjectParamsSchema, parseRequestPart } from "../http-schemas.js";

/** The kinds of channel the gateway serves: a project's events and an agent's. */
export type TargetKind = ChannelAddress["kind"];

/** The route of each kind; publish (POST) and stream (GET) share it. */
export const EVENTS_ROUTE = {
  project: "/v1/projects/:projectId/events",
  agent: "/v1/agents/:agentId/events",
} as const satisfies Record<TargetKind, string>;

/** The route of each kind's history: the retained events, as JSON. */
export const HISTORY_ROUTE = {
  project: "/v1/projects/:projectId/history",
  agent: "/v1/agents/:agentId/history",
} as const satisfies Record<TargetKind, string>;

/**
 * The path of `address` on one of the routes above (`route[kind]` with its
 * id): what a client (the CLI's gateway remote) requests.
 */
export function pathOf(
  route: typeof EVENTS_ROUTE | typeof HISTORY_ROUTE,
  address: ChannelAddress,
): string {
  return route[address.kind].replace(/:[A-Za-z]+/, encodeURIComponent(address.id));
}

/** A checked path: the address (lowercase UUID) and its channel on the bus. */
export interface Target {
  readonly address: ChannelAddress;
  readonly channel: string;
}

/**
 * The target of a request to {@link EVENTS_ROUTE}`[kind]` or
 * {@link HISTORY_ROUTE}`[kind]`, its path parsed
 * with the schema the OpenAPI description shows.
 * @throws {InvalidRequestError} if the id in the path is not a UUID.
 */
export function targetOf(bus: EventBus, kind: TargetKind, params: unknown): Target {
  const id =
    kind === "project"
      ? parseRequestPart("params", ProjectParamsSchema, params).projectId
      : parseRequestPart("params", AgentParamsSchema, params).agentId;
  const address = { kind, id };
  return { address, channel: channelOf(bus, address) };
}

/** The bus channel of a project or agent whose id is a UUID. */
export function channelOf(bus: EventBus, address: ChannelAddress): string {
  return address.kind === "project"
    ? bus.getProjectChannel(address.id)
    : bus.getAgentChannel(address.id);
}
