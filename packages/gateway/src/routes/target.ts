/**
 * What a `/v1/{projects|agents}/{id}/events` path addresses, checked once for
 * both the publish and the stream routes.
 */
import type { ChannelAddress, EventBus } from "@eventbus/core";
import { invalidParameter } from "../http-errors.js";

/** The kinds of channel the gateway serves: a project's events and an agent's. */
export type TargetKind = ChannelAddress["kind"];

/** The route of each kind; publish (POST) and stream (GET) share it. */
export const EVENTS_ROUTE = {
  project: "/v1/projects/:projectId/events",
  agent: "/v1/agents/:agentId/events",
} as const satisfies Record<TargetKind, string>;

const ID_PARAM = { project: "projectId", agent: "agentId" } as const satisfies Record<
  TargetKind,
  string
>;

/** A checked path: the address (lowercase UUID) and its channel on the bus. */
export interface Target {
  readonly address: ChannelAddress;
  readonly channel: string;
}

/**
 * The target of a request to {@link EVENTS_ROUTE}`[kind]`.
 * @throws {InvalidRequestError} if the id in the path is not a UUID.
 */
export function targetOf(bus: EventBus, kind: TargetKind, params: unknown): Target {
  const name = ID_PARAM[kind];
  const id = (params as Record<string, string | undefined>)[name] ?? "";
  let channel: string;
  try {
    channel = kind === "project" ? bus.getProjectChannel(id) : bus.getAgentChannel(id);
  } catch {
    throw invalidParameter("params", name, "must be a UUID");
  }
  return { address: { kind, id: id.toLowerCase() }, channel };
}
