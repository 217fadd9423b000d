/**
 * `@eventbus/core`: the Event model, its JSON wire format, channel names and an
 * EventBus over pluggable transports. The in-memory transport is built in; the
 * Redis one is a separate entry point, loaded only when a `redis://` URL asks for it.
 */
export {
  type ConnectionEvent,
  DEFAULT_MAX_EVENT_BYTES,
  EventBus,
  type EventBusEvents,
  type EventBusOptions,
  type EventBusStats,
} from "./bus.js";
export { type ChannelAddress, ChannelNames, DEFAULT_CHANNEL_PREFIX } from "./channels.js";
export { decodeEvent, encodeEvent, parseWireEvent } from "./codec.js";
export { type CreateEventBusOptions, createEventBus } from "./create.js";
export {
  BusClosedError,
  ChannelMismatchError,
  ConnectionRejectedError,
  ErrorCode,
  EventBusError,
  EventTooLargeError,
  InvalidChannelError,
  MalformedMessageError,
  type MalformedReason,
  NotConnectedError,
  PublishFailedError,
  SlowConsumerError,
  SubscribeFailedError,
  UnsupportedUrlError,
  ValidationError,
  type ValidationIssue,
} from "./errors.js";
export {
  ACTOR_TYPES,
  type ActorType,
  createEvent,
  EVENT_TYPES,
  type Event,
  type EventInput,
  EventSchema,
  EventType,
  MAX_EVENT_ID_LENGTH,
  parseEvent,
  WireEventSchema,
} from "./events.js";
export type { JsonObject, JsonValue } from "./json.js";
export {
  DEFAULT_BUFFER_SIZE,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
} from "./subscription.js";
export type { Transport, TransportConnectionEvent, TransportSink } from "./transport.js";
export { MemoryBroker, MemoryTransport, type MemoryTransportOptions } from "./transports/memory.js";
export {
  REDIS_DEFAULTS,
  REDIS_SOCKET_BUFFER_BYTES,
  type RedisConnectionOptions,
} from "./transports/redis-options.js";
