/**
 * GET /v1/projects/{projectId}/history and GET /v1/agents/{agentId}/history:
 * a channel's retained events with their positions, as JSON (`bus.history`
 * on the wire).
 */
import { ErrorCode, type EventBus, encodeEvent, type HistoryPage } from "@eventbus/core";
import type { FastifyInstance } from "fastify";
import { GatewayErrorCode } from "../errors.js";
import type { Guard } from "../guard.js";
import { historyQuerySchema, parseRequestPart } from "../http-schemas.js";
import type { GatewayMetrics } from "../metrics.js";
import { HISTORY_ROUTE, type TargetKind, targetOf } from "./target.js";

/** What the history routes need. */
export interface HistoryDependencies {
  readonly bus: EventBus;
  readonly guard: Guard;
  readonly metrics: GatewayMetrics;
  /** The largest `limit` a request may ask for: the bus's `maxEntries`. */
  readonly maxEntries: number;
}

/**
 * Registers both history routes, readable by the tokens that may follow the
 * channel's stream (the token from the header, `?access_token=` or the
 * cookie, as for streams). `?since=` gives the events after a position,
 * without it the latest ones; `?limit=` at most that many. Answers 200 with
 * the page (`HistoryPageSchema`); 400 `EVENTBUS_INVALID_POSITION` for a
 * malformed `since`, 400 `GATEWAY_INVALID_REQUEST` for a bad `limit` or id;
 * 404 `EVENTBUS_HISTORY_DISABLED` when the bus keeps no history. Each read
 * counts in `eventbus_history_reads_total{outcome}`.
 */
export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryDependencies): void {
  const onRequest = deps.guard.hook({ allowQueryAndCookie: true });
  const querySchema = historyQuerySchema(deps.maxEntries);
  for (const kind of ["project", "agent"] as const satisfies TargetKind[]) {
    app.get(HISTORY_ROUTE[kind], { onRequest }, async (request, reply) => {
      let page: HistoryPage;
      try {
        const { address, channel } = targetOf(deps.bus, kind, request.params);
        deps.guard.accessOf(request).assertRead(address);
        const { since, limit } = parseRequestPart("query", querySchema, request.query);
        page = await deps.bus.history(channel, {
          ...(since === undefined ? {} : { since }),
          ...(limit === undefined ? {} : { limit }),
        });
      } catch (error) {
        if (isInvalid(error)) deps.metrics.historyReads.inc({ outcome: "invalid" });
        throw error;
      }
      deps.metrics.historyReads.inc({ outcome: page.complete ? "complete" : "incomplete" });
      return reply.type("application/json; charset=utf-8").send(formatHistoryPage(page));
    });
  }
}

/** The codes of a request refused for what it asked (400), not for who asked or the bus's state. */
const INVALID_CODES: ReadonlySet<unknown> = new Set([
  GatewayErrorCode.INVALID_REQUEST,
  ErrorCode.INVALID_POSITION,
]);

function isInvalid(error: unknown): boolean {
  return INVALID_CODES.has((error as { code?: unknown } | undefined)?.code);
}

/**
 * A page as the routes send it: `events` (each `{position, event}`, the event
 * in the wire format), `current`, `more`, `complete` and, when not complete,
 * `gap`. Each event is encoded once, by the codec, and spliced in.
 */
export function formatHistoryPage(page: HistoryPage): string {
  const events = page.events.map(
    ({ event, position }) =>
      `{"position":${JSON.stringify(position)},"event":${encodeEvent(event)}}`,
  );
  const gap = page.complete ? "" : `,"gap":${JSON.stringify(page.gap)}`;
  return `{"events":[${events.join(",")}],"current":${JSON.stringify(page.current)},"more":${page.more},"complete":${page.complete}${gap}}`;
}
