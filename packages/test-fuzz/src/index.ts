/**
 * `@eventbus/test-fuzz`: fast-check generators of what the bus reads from
 * outside (messages on a channel, HTTP bodies), hostile JSON included, shared
 * by the property tests of every package.
 *
 * @example
 * const messages = wireMessages({ eventTypes: EVENT_TYPES, actorTypes: ACTOR_TYPES,
 *   projectIds: [projectId], maxDepth: MAX_PAYLOAD_DEPTH, maxIdLength: MAX_EVENT_ID_LENGTH });
 * fc.assert(fc.property(messages, (text) => { ... }));
 */
export {
  anyJsonText,
  anyString,
  deepText,
  depthAround,
  depthOf,
  type NestingShape,
  nestedText,
  objectText,
  sameJsonNumber,
  scalarText,
  wideText,
} from "./json-text.js";
export { eventText, throughUtf8, type WireVocabulary, wireMessages } from "./wire.js";
