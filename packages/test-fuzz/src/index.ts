/**
 * `@eventbus/test-fuzz`: fast-check generators of what the bus reads from
 * outside (messages on a channel, HTTP bodies), hostile JSON included, shared
 * by the property tests of every package.
 *
 * @example
 * import * as core from "@eventbus/core";
 * const messages = wireMessages(core, [projectId]);
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
export { anyValue } from "./values.js";
export { eventText, throughUtf8, type WireFormat, wireMessages } from "./wire.js";
