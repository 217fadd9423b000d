import { EventBus, type EventBusOptions } from "./bus.js";
import { UnsupportedUrlError } from "./errors.js";
import { MemoryTransport } from "./transports/memory.js";

/** What {@link createEventBus} takes besides the URL: everything but the transport. */
export type CreateEventBusOptions = Omit<EventBusOptions, "transport">;

/**
 * Builds an {@link EventBus} from a URL, typically `process.env.EVENTBUS_URL`:
 * `undefined`, `""` or `memory://` gives the in-memory transport (the embedded
 * default), `redis://` or `rediss://` the Redis transport.
 *
 * @throws {UnsupportedUrlError} for any other scheme, or a transport that is not available.
 * @example
 * const bus = createEventBus(process.env.EVENTBUS_URL);
 */
export function createEventBus(url?: string, options: CreateEventBusOptions = {}): EventBus {
  const scheme = url === undefined || url === "" ? "memory:" : schemeOf(url);
  switch (scheme) {
    case "memory:":
      return new EventBus({ ...options, transport: new MemoryTransport() });
    case "redis:":
    case "rediss:":
      throw new UnsupportedUrlError(url ?? "", "the Redis transport is not part of this build yet");
    default:
      throw new UnsupportedUrlError(url ?? "", "expected memory://, redis:// or rediss://");
  }
}

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
}
