/**
 * Where a one-channel stream resumes from: the `Last-Event-ID` header a
 * reconnecting `EventSource` sends by itself (the stream's `id:` lines are
 * positions), else `?last_event_id=` for a first connection (an
 * `EventSource` cannot set headers).
 */
import { parsePosition } from "@eventbus/core";

/** The query parameter a first connection names its resume point in. */
export const RESUME_QUERY_PARAM = "last_event_id";

/** The header a reconnecting `EventSource` sends, lowercased as Node reports headers. */
export const RESUME_HEADER = "last-event-id";

/**
 * A stream's resume point: none, a position, or a string that is not a
 * position (such as an event id a gateway without history once sent as `id:`):
 * the stream then cannot resume and tells its client to reload.
 */
export type ResumePoint =
  | { readonly kind: "none" }
  | { readonly kind: "position"; readonly position: string }
  | { readonly kind: "invalid" };

/**
 * The resume point of a stream request: the header wins (after a reconnect
 * it is newer than the URL's), an empty one is none (what a browser that has
 * no id sends).
 */
export function resumePointOf(header: unknown, query: string | undefined): ResumePoint {
  const text = resumePointText(header, query);
  if (text === undefined) return { kind: "none" };
  const position = asPosition(text);
  return position === undefined ? { kind: "invalid" } : { kind: "position", position };
}

/** The text a stream resumes from: the header, else the query parameter; `undefined` for none or empty. */
export function resumePointText(header: unknown, query: string | undefined): string | undefined {
  const text = typeof header === "string" && header !== "" ? header : query;
  return text === undefined || text === "" ? undefined : text;
}

/** `text` if it is a position (see `parsePosition`), else `undefined`. */
export function asPosition(text: string): string | undefined {
  try {
    parsePosition(text);
    return text;
  } catch {
    return undefined;
  }
}
