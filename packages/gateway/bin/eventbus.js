#!/usr/bin/env node
// The `eventbus` command. A committed file, so npm links it at install time,
// before `npm run build` has written the CLI it runs (dist/cli/main.js).
import "../dist/cli/main.js";
