/**
 * How `eventbus serve` gets its bus before it listens: a Redis server that
 * refuses the configuration (wrong password, a database it lacks, TLS) ends
 * the command at once with the reason; one that does not answer is logged
 * (at attempts 1, 2, 4, 8...) and tried again until it does, so a gateway
 * started before its Redis comes up by itself. (A bus whose opening failed stays failed; each try is a new one.)
 */
import {
  ConnectionRejectedError,
  createEventBus,
  type EventBus,
  type HistoryOptions,
  NotConnectedError,
} from "@eventbus/core";
import type { Logger } from "pino";
import { ConfigError } from "../errors.js";

/**
 * Opens the bus of `url` (in-memory when undefined) with `history` (its
 * bounds, or `false` for none), waiting while Redis is unreachable. Resolves
 * with `undefined` if `signal` aborts first.
 *
 * @throws {ConfigError} the server refused the connection; the message says
 * why, without the password.
 */
export async function openBus(
  url: string | undefined,
  options: {
    readonly connectTimeoutMs: number;
    readonly history: HistoryOptions | false;
    readonly log: Logger;
    readonly signal: AbortSignal;
  },
): Promise<EventBus | undefined> {
  const where = describeBusUrl(url);
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    const bus = createEventBus(url, {
      redis: { connectTimeoutMs: options.connectTimeoutMs },
      history: options.history,
    });
    const stop = (): void => void bus.close();
    options.signal.addEventListener("abort", stop, { once: true });
    try {
      await bus.ready;
      if (attempt > 1) {
        options.log.info({ bus: where, attempt }, `connected to ${where} at attempt ${attempt}`);
      }
      return bus;
    } catch (error) {
      await bus.close();
      if (error instanceof ConnectionRejectedError) {
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        throw new ConfigError(
          `${where} refused the connection: ${reason} (check the password and database in --url or EVENTBUS_URL)`,
          { cause: error },
        );
      }
      if (!(error instanceof NotConnectedError)) {
        if (options.signal.aborted) return undefined;
        throw error;
      }
      // Attempts 1, 2, 4, 8...: a Redis down for hours fills no log.
      if ((attempt & (attempt - 1)) === 0) {
        const reason = error.cause instanceof Error ? error.cause.message : "no answer";
        options.log.warn(
          { bus: where, attempt, reason },
          attempt === 1
            ? `${where} did not answer within ${options.connectTimeoutMs} ms (${reason}); trying again until it does: the gateway listens then`
            : `${where} still does not answer after ${attempt} attempts (${reason}); trying again`,
        );
      }
    } finally {
      options.signal.removeEventListener("abort", stop);
    }
  }
  return undefined;
}

/** A bus URL for messages: scheme, host, port and database, never the user or password. */
function describeBusUrl(url: string | undefined): string {
  if (url === undefined || url.startsWith("memory:")) return "the in-memory bus";
  const { protocol, hostname, port, pathname } = new URL(url);
  return `Redis at ${protocol}//${hostname}:${port || "6379"}${pathname === "/" ? "" : pathname}`;
}
