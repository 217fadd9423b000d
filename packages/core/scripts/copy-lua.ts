/**
 * Copies the history Lua scripts next to the compiled modules that load them
 * (`dist/src/history/`), where the package also exports
 * `@eventbus/core/history-publish.lua` for services in other languages.
 * Run by `npm run build`.
 */
import { copyFileSync, readdirSync } from "node:fs";

const source = new URL("../../src/history/", import.meta.url);
const target = new URL("../src/history/", import.meta.url);
for (const name of readdirSync(source)) {
  if (name.endsWith(".lua")) copyFileSync(new URL(name, source), new URL(name, target));
}
