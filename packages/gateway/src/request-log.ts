/**
 * How a request's URL appears in logs and in error messages: the path, and of
 * the query only what the gateway reads, read from the parsed query rather
 * than matched in the raw text. A token can hide in a query in many spellings
 * (`access%5Ftoken=`, `%61ccess_token=`, behind a `;` the parser does not
 * split on, as a bare key); none of them is ever written out.
 */
import { EVENT_TYPES } from "@eventbus/core";
import { TOKEN_QUERY_PARAM } from "./auth.js";

/** What stands in for a hidden value. */
const HIDDEN = "***";

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * The URL of a request as logs show it: its path, then `types=` (or `types[]=`) with the
 * event type names it gives (any other text in it as `***`) and
 * `access_token=***` when the query carries a token. Every other query
 * parameter is left out: the gateway ignores them, and a token may be among them.
 *
 * @param request - the raw `url` (path and query) and the query as the server parsed it.
 * @example
 * loggableUrl({ url: "/v1/x?access%5Ftoken=eyJ...&types=issue.created",
 *               query: { access_token: "eyJ...", types: "issue.created" } })
 * // "/v1/x?types=issue.created&access_token=***"
 */
export function loggableUrl(request: { readonly url: string; readonly query?: unknown }): string {
  const at = request.url.indexOf("?");
  if (at === -1) return request.url;
  const path = request.url.slice(0, at);
  const query = request.query;
  if (typeof query !== "object" || query === null) return path;
  const fields = query as Record<string, unknown>;
  const shown: string[] = [];
  const types = [fields.types, fields["types[]"]].flat().filter((value) => value !== undefined);
  if (types.length > 0) shown.push(`types=${types.map(typeNames).join(",")}`);
  if (fields[TOKEN_QUERY_PARAM] !== undefined) shown.push(`${TOKEN_QUERY_PARAM}=${HIDDEN}`);
  return shown.length === 0 ? path : `${path}?${shown.join("&")}`;
}

function typeNames(value: unknown): string {
  if (typeof value !== "string") return HIDDEN;
  return value
    .split(",")
    .map((name) => (KNOWN_TYPES.has(name.trim()) ? name.trim() : HIDDEN))
    .join(",");
}
