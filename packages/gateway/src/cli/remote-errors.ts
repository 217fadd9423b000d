/** Why `tail` or `publish` could not do what was asked of a gateway. */
import type { ValidationIssue } from "@eventbus/core";

/**
 * The gateway did not answer at all (nothing listens at its address, the
 * name does not resolve...): says where, why, and what to check.
 */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";

  constructor(gateway: URL, cause: unknown) {
    super(
      `cannot reach the gateway at ${gateway.origin} (${networkReason(cause)}): is the gateway running? (eventbus serve)`,
      { cause },
    );
  }
}

/** The system's reason for a failed `fetch` (`ECONNREFUSED`...), rather than its "fetch failed". */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A gateway refused a request or ended a stream for good; `code` is the
 * gateway's stable error code (such as `GATEWAY_FORBIDDEN`).
 */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  readonly code: string;
  readonly issues: readonly ValidationIssue[];

  constructor(code: string, message: string, issues: readonly ValidationIssue[] = []) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}
