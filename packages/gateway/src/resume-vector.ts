/**
 * The resume point of a multi-channel stream: one position per channel, in
 * one SSE `id:`, so a reconnecting `EventSource` (which keeps only the last
 * `id:`) resumes every channel where it was. Written
 * `project:<uuid>=<position>,agent:<uuid>=<position>`; positions have no `=`
 * or `,`, labels no `=`.
 */
import { asPosition } from "./resume-point.js";

/** The `id:` of a stream whose channels (by label) stand at these positions, or `undefined` for none. */
export function encodeResumeVector(positions: ReadonlyMap<string, string>): string | undefined {
  if (positions.size === 0) return undefined;
  return [...positions].map(([label, position]) => `${label}=${position}`).join(",");
}

/**
 * Reads a resume vector for a stream of `labels`: each named channel's
 * position, or `undefined` when `text` is not a vector of positions of those
 * channels (such as an event id a stream without history sent as `id:`).
 * Channels it does not name start at their current position.
 */
export function parseResumeVector(
  text: string,
  labels: readonly string[],
): ReadonlyMap<string, string> | undefined {
  const positions = new Map<string, string>();
  for (const part of text.split(",")) {
    const at = part.lastIndexOf("=");
    const label = part.slice(0, at);
    const position = asPosition(part.slice(at + 1));
    if (at < 1 || position === undefined || !labels.includes(label) || positions.has(label)) {
      return undefined;
    }
    positions.set(label, position);
  }
  return positions;
}
