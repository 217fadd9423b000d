/**
 * The `onRequest` hook that authenticates `/v1` requests before their body is
 * read, and hands their {@link Access} to the route.
 */
import { createHash } from "node:crypto";
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { Access } from "./access.js";
import { type Authenticator, TOKEN_QUERY_PARAM, tokenOf } from "./auth.js";
import { InternalError, UnauthorizedError } from "./errors.js";

/** Verifies each guarded request's token once and remembers what it grants. */
export class Guard {
  readonly authenticator: Authenticator;
  readonly #access = new WeakMap<FastifyRequest, Access>();
  readonly #clients = new WeakMap<FastifyRequest, string>();

  constructor(authenticator: Authenticator) {
    this.authenticator = authenticator;
  }

  /**
   * The hook of a route: the token from `Authorization: Bearer`, and for
   * stream routes (`allowQueryAndCookie`) also from `?access_token=` or the
   * `eventbus_token` cookie. Refuses with 401 before the body is parsed.
   */
  hook(options: { readonly allowQueryAndCookie: boolean }): onRequestAsyncHookHandler {
    return async (request) => {
      const token = tokenOf({
        headers: request.headers,
        queryToken: queryToken(request.query),
        allowQueryAndCookie: options.allowQueryAndCookie,
      });
      this.#access.set(request, await this.authenticator.verify(token));
      if (this.authenticator.enabled && token !== undefined) {
        this.#clients.set(
          request,
          `token:${createHash("sha256").update(token).digest("base64url")}`,
        );
      }
    };
  }

  /**
   * Who a guarded request comes from, for per-client limits: its token (as a
   * digest, so no token is kept) when access control is on, else its address.
   */
  clientOf(request: FastifyRequest): string {
    return this.#clients.get(request) ?? `ip:${request.ip}`;
  }

  /** What a guarded request may do. */
  accessOf(request: FastifyRequest): Access {
    const access = this.#access.get(request);
    if (access === undefined) throw new InternalError({ cause: "route is not guarded" });
    return access;
  }
}

function queryToken(query: unknown): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[TOKEN_QUERY_PARAM];
  if (value === undefined || typeof value === "string") return value;
  throw new UnauthorizedError(`give ${TOKEN_QUERY_PARAM} once`);
}
