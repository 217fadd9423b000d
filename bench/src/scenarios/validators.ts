import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { decodeEvent, type Event, encodeEvent, WireEventSchema } from "@eventbus/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { eventPool } from "../fixtures.js";
import type { Runner, Scenario } from "../harness.js";
import { EVENTS_PER_SECOND } from "./pipe-scenario.js";

/** Wire JSON to a validated event, the way one decoder does it. */
type Decoder = (data: string) => unknown;

/** The JSON Schema the core generates from its zod schema at build time. */
const wireJsonSchema: object = createRequire(import.meta.url)("@eventbus/core/event.schema.json");

/**
 * The decoders compared: zod (the source of truth), the same schema compiled
 * by ajv from its JSON Schema, and the bus's `decodeEvent` (its hand-written
 * fast path, zod only for what it declines). Each ends with an event whose
 * timestamp is a `Date`, as the bus hands out.
 */
function decoders(): Record<string, Decoder> {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const validate = ajv.compile(wireJsonSchema);
  const toEvent = (wire: Record<string, unknown>) => ({
    ...wire,
    actor_id: wire.actor_id ?? null,
    timestamp: new Date(wire.timestamp as string),
  });
  return {
    "zod safeParse": (data) => {
      const result = WireEventSchema.safeParse(JSON.parse(data));
      if (!result.success) throw result.error;
      return { ...result.data, timestamp: new Date(result.data.timestamp) };
    },
    "ajv compiled": (data) => {
      const json: unknown = JSON.parse(data);
      if (!validate(json)) throw new Error(ajv.errorsText(validate.errors));
      return toEvent(json as Record<string, unknown>);
    },
    "bus decodeEvent": decodeEvent,
  };
}

/**
 * Scenario 8: the receive path's decode alone (JSON.parse and validation of
 * a 300-byte event), in a loop, to choose the validator the bus runs per
 * message. Every decoder sees the same wire strings.
 */
export function validatorScenario({
  messages,
  rounds,
}: {
  messages: number;
  rounds: number;
}): Scenario {
  const all = decoders();
  const names = Object.keys(all);
  return {
    id: "validators",
    title: "8. Decode and validate one message (receive hot path)",
    description: `${messages.toLocaleString("en-US")} wire messages of about 300 B decoded in a loop: JSON.parse, validation against the wire schema, timestamp to Date.`,
    metrics: [EVENTS_PER_SECOND],
    contenders: names,
    reference: "zod safeParse",
    targets: [],
    warmups: 1,
    rounds,
    async open(context) {
      const pool = eventPool(Math.min(messages, 10_000), 300, randomUUID()).map((event: Event) =>
        encodeEvent(event),
      );
      return Object.entries(all)
        .filter(([name]) => context.selected(name))
        .map(
          ([name, decode]): Runner => ({
            name,
            async run() {
              const start = performance.now();
              for (let i = 0; i < messages; i++) decode(pool[i % pool.length] as string);
              return { eventsPerSec: messages / ((performance.now() - start) / 1000) };
            },
            close: async () => {},
          }),
        );
    },
  };
}
