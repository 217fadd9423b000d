/**
 * Taking a long-lived response (an SSE stream) over from Fastify without
 * keeping Fastify's per-request objects alive for as long as it is open.
 */
import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";

/**
 * Hijacks `reply` (Fastify leaves the response alone from then on) and
 * removes the listener Fastify 5 puts on every response's `finish` and
 * `error` to run the `onResponse` hooks and log "request completed": its
 * closure holds the request, the reply and the request's logger until the
 * response ends, about 0.7 KB per open stream (docs/performance.md, section 7).
 * Fastify adds one function for both events, which tells it apart: Node's own
 * `finish` listener is no `error` listener. So the caller logs the
 * completion itself, and `onResponse` hooks do not run for the response.
 * An `error` on the response (Node emits one for a write after its end) would
 * then have no listener and end the process with every other stream: it
 * destroys that response instead ({@link destroyOnError}, shared by all).
 *
 * @returns the raw response, now the caller's alone.
 */
export function hijackLongLived(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  const onError = res.listeners("error");
  for (const listener of res.listeners("finish")) {
    if (!onError.includes(listener)) continue;
    const fastify = listener as (...args: unknown[]) => void;
    res.removeListener("finish", fastify);
    res.removeListener("error", fastify);
  }
  res.on("error", destroyOnError);
  return res;
}

/** Ends a hijacked response that failed; one function for all, so an open stream holds no closure for it. */
function destroyOnError(this: ServerResponse): void {
  this.destroy();
}
