/**
 * Writes `event.schema.json`: the JSON Schema of the wire format, generated
 * from the zod schema so the two cannot drift. Services in other languages
 * validate against it. Run by `npm run build`.
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { WireEventSchema } from "../src/events.js";

const schema = {
  ...z.toJSONSchema(WireEventSchema, { io: "input", target: "draft-2020-12" }),
  title: "EventBus event",
  description:
    "One event on the wire, as the original Python service writes it and @eventbus/core reads and writes it.",
};
const target = new URL("../../event.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
