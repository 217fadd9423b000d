/**
 * The SSE messages that tell a client where its stream stands, with history
 * on: `start` (the channel's position when the stream starts, after what a
 * resume replayed) and `reload` (events are missing and cannot be recovered:
 * reload from your source of truth). Their names have no dot, so they never
 * collide with an event type.
 */
import type { ChannelRecovery, Delivery, GapReason } from "@eventbus/core";
import { formatMessage } from "./sse.js";

/** The SSE event names of the two messages. */
export const RECOVERY_EVENTS = { start: "start", reload: "reload" } as const;

/**
 * Why a stream says `reload`: a gap core reports, or `invalid-position`, a
 * resume point that is not a position (the stream starts at the channel's
 * current position instead).
 */
export type ReloadReason = GapReason | "invalid-position";

/** What a `reload` message carries. */
export interface Reload {
  readonly reason: ReloadReason;
  /** The last position the client had before the missing events, if known. */
  readonly after: string | undefined;
  /** Where the stream goes on from: resume from here after reloading. */
  readonly position: string | undefined;
  /** The channel, on a multi-channel stream (`project:<uuid>` or `agent:<uuid>`). */
  readonly channel?: string;
  /** The `id:` of a multi-channel stream: its resume vector (a one-channel stream's is `position`). */
  readonly id?: string | undefined;
}

/**
 * `event: start`, `id:` the position, `data: {"position","since","replayed"}`:
 * so a client that receives no event still has a resume point. On a
 * multi-channel stream, `data` names the `channel` and `id` is the stream's
 * resume vector.
 */
export function formatStart(
  recovery: ChannelRecovery,
  multi?: { readonly channel: string; readonly id: string | undefined },
): string {
  const data = {
    ...(multi === undefined ? {} : { channel: multi.channel }),
    position: recovery.position ?? null,
    since: recovery.since ?? null,
    replayed: recovery.replayed,
  };
  const id = multi === undefined ? recovery.position : multi.id;
  return formatMessage({
    event: RECOVERY_EVENTS.start,
    ...(id === undefined ? {} : { id }),
    data: JSON.stringify(data),
  });
}

/**
 * `event: reload`, `id:` the position to go on from (on a multi-channel
 * stream, its resume vector), `data: {"reason","after","position","message"}`
 * (and `channel` on a multi-channel stream).
 */
export function formatReload(reload: Reload): string {
  const data = {
    ...(reload.channel === undefined ? {} : { channel: reload.channel }),
    reason: reload.reason,
    after: reload.after ?? null,
    position: reload.position ?? null,
    message: `${missing(reload)} and cannot be recovered (${reload.reason}): reload from your source of truth`,
  };
  const id = reload.channel === undefined ? reload.position : reload.id;
  return formatMessage({
    event: RECOVERY_EVENTS.reload,
    ...(id === undefined ? {} : { id }),
    data: JSON.stringify(data),
  });
}

function missing(reload: Reload): string {
  if (reload.reason === "invalid-position")
    return "the resume point is not a position, so what was missed is unknown";
  return reload.after === undefined
    ? "events before this point are missing"
    : `events after ${reload.after} are missing`;
}

/** The `reload` of a `gap` delivery; on a multi-channel stream, with its channel and resume vector. */
export function reloadOf(
  gap: Extract<Delivery, { kind: "gap" }>,
  multi?: { readonly channel: string; readonly id: string | undefined },
): Reload {
  return { reason: gap.reason, after: gap.after, position: gap.resumeFrom, ...multi };
}
