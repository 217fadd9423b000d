/**
 * What a token grants, and the checks every route makes against it. Pure: no
 * cryptography here (see auth.ts), so the scope rules are tested on their own.
 */
import { type ChannelAddress, canonicalUuid } from "@eventbus/core";
import { z } from "zod";
import { describeIssues, ForbiddenError } from "./errors.js";

/** The claim of a gateway token that holds its grant: `{ "eventbus": { ... } }`. */
export const GRANT_CLAIM = "eventbus";

/** The entry of `projects` or `agents` that grants every project or every agent. */
export const ANY = "*";

const ANY_OR_UUID = `must be a UUID or "${ANY}"`;

const IdSchema = z.string({ error: ANY_OR_UUID }).transform((id, context) => {
  const canonical = id === ANY ? ANY : canonicalUuid(id);
  if (canonical !== undefined) return canonical;
  context.addIssue({ code: "custom", message: ANY_OR_UUID, input: id });
  return z.NEVER;
});

/**
 * The grant a token carries in its `eventbus` claim:
 * - `projects`: project UUIDs it may read (and, with `publish`, publish to); `"*"` for all;
 * - `agents`: agent UUIDs likewise (default none);
 * - `publish`: whether it may publish at all (default false: read only).
 *
 * @example
 * { "sub": "dashboard", "exp": 1767225600,
 *   "eventbus": { "projects": ["6f1c…"], "agents": [], "publish": false } }
 */
const GrantSchema = z.object({
  projects: z.array(IdSchema).default([]),
  agents: z.array(IdSchema).default([]),
  publish: z.boolean().default(false),
});

/** A token's grant, as {@link GrantSchema} reads it (UUIDs lowercased). */
export type Grant = z.output<typeof GrantSchema>;

/**
 * Reads a grant claim (named `claim` in problems); on failure says what is
 * wrong with it, for the caller to raise as its own error (a refused request,
 * a refused mint).
 */
export function readGrant(
  value: unknown,
  claim: string = GRANT_CLAIM,
): { grant: Grant } | { problem: string } {
  const result = GrantSchema.safeParse(value);
  if (result.success) return { grant: result.data };
  const issues = result.error.issues.map((issue) => ({
    ...issue,
    path: [claim, ...issue.path],
  }));
  return { problem: describeIssues(issues) };
}

/**
 * What one request may do: the grant of its token and when the token expires,
 * or unrestricted when access control is off. Routes call {@link assertRead}
 * and {@link assertPublish}; both throw {@link ForbiddenError}.
 */
export class Access {
  /** Access when no signing key is configured: everything, never expiring. */
  static readonly UNRESTRICTED = new Access({ projects: [ANY], agents: [ANY], publish: true });

  readonly grant: Grant;
  /** When the token expires; an open stream ends then. `undefined` when access control is off. */
  readonly expiresAt: Date | undefined;
  readonly #projects: ReadonlySet<string>;
  readonly #agents: ReadonlySet<string>;

  constructor(grant: Grant, expiresAt?: Date) {
    this.grant = grant;
    this.expiresAt = expiresAt;
    this.#projects = new Set(grant.projects);
    this.#agents = new Set(grant.agents);
  }

  /** True if the grant names this project or agent, or all of its kind. */
  covers(address: ChannelAddress): boolean {
    const ids = address.kind === "project" ? this.#projects : this.#agents;
    return ids.has(ANY) || ids.has(address.id);
  }

  /** @throws {ForbiddenError} unless the token may read `address`'s channel. */
  assertRead(address: ChannelAddress): void {
    if (!this.covers(address))
      throw new ForbiddenError(`token does not grant ${describe(address)}`);
  }

  /**
   * Publishing needs `publish` and the channel's project or agent. The publish
   * route checks the event's project too, so a token holding an agent cannot
   * speak for a project it does not hold.
   *
   * @throws {ForbiddenError} unless the token may publish to `address`.
   */
  assertPublish(address: ChannelAddress): void {
    if (!this.grant.publish) throw new ForbiddenError("token does not grant publishing");
    this.assertRead(address);
  }
}

function describe(address: ChannelAddress): string {
  return `${address.kind} ${address.id}`;
}
