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
  type HistoryPage,
  type HistoryRequest,
  type PositionedEvent,
} from "./bus.js";
export { type ChannelAddress, ChannelNames, DEFAULT_CHANNEL_PREFIX } from "./channels.js";
export { decodeEvent, encodeEvent, parseWireEvent } from "./codec.js";
export type { ContinuityStats, GapReport } from "./continuity.js";
export { type CreateEventBusOptions, createEventBus } from "./create.js";
export {
  BusClosedError,
  ChannelMismatchError,
  ConnectionRejectedError,
  ErrorCode,
  EventBusError,
  EventTooLargeError,
  HistoryDisabledError,
  HistoryReadFailedError,
  InvalidChannelError,
  InvalidPositionError,
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
export {
  MemoryHistoryStore,
  type MemoryHistoryStoreOptions,
} from "./history/memory-store.js";
export {
  encodePosition,
  fingerprintOf,
  MAX_POSITION_LENGTH,
  type Position,
  parsePosition,
  positionOfEvent,
} from "./history/position.js";
export type { GapReason } from "./history/sequencer.js";
export {
  type Appended,
  type AppendInput,
  HISTORY_DEFAULTS,
  type HistoryEntry,
  type HistoryGap,
  type HistoryOptions,
  type HistoryQuery,
  type HistoryRead,
  type HistorySettings,
  type HistoryStore,
} from "./history/store.js";
export { WIRE_POSITION_FIELD } from "./history/wire.js";
export { type JsonObject, type JsonValue, MAX_PAYLOAD_DEPTH } from "./json.js";
export {
  type ChannelRecovery,
  DEFAULT_BUFFER_SIZE,
  type Delivery,
  type DeliverySink,
  type OverflowPolicy,
  type SubscribeOptions,
  type Subscription,
} from "./subscription.js";
export type { Transport, TransportConnectionEvent, TransportSink } from "./transport.js";
export { MemoryBroker, MemoryTransport, type MemoryTransportOptions } from "./transports/memory.js";
export type { RedisClusterConnectionOptions } from "./transports/redis-cluster-options.js";
export {
  REDIS_DEFAULTS,
  REDIS_SOCKET_BUFFER_BYTES,
  type RedisConnectionOptions,
} from "./transports/redis-options.js";
export { canonicalUuid, UuidSchema } from "./uuid.js";
