/**
 * With access control off, the gateway answers only requests addressed to a
 * loopback name. It listens on loopback only then, but a web page elsewhere
 * can point a name of its own at 127.0.0.1 (DNS rebinding) and have the
 * visitor's browser call the gateway as a same-origin page; such a request
 * carries the page's name in `Host`, and is refused.
 */
import type { onRequestAsyncHookHandler } from "fastify";
import { isLoopback } from "./config.js";
import { HostNotAllowedError } from "./errors.js";

/** `name[:port]` or `[ipv6][:port]`, nothing else (no user info, path or spaces). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/**
 * The `onRequest` hook that refuses (403 `GATEWAY_HOST_NOT_ALLOWED`) a `Host`
 * that is not `localhost`, 127.0.0.0/8 or `[::1]`, with any port. A request
 * without `Host` (HTTP/1.0) is let through: browsers always send one.
 */
export const loopbackHostsOnly: onRequestAsyncHookHandler = async (request) => {
  const host = request.headers.host;
  if (host === undefined) return;
  const name = HOST_HEADER.exec(host)?.[1];
  if (name !== undefined && isLoopback(name)) return;
  throw new HostNotAllowedError(
    `access control is off, so the gateway answers only to loopback names (localhost, 127.0.0.1, [::1]), not Host: ${JSON.stringify(host.slice(0, 100))}`,
  );
};
