import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

describe("start", () => {
  it("start - npm start compiles with tsc -b, which has nothing to do after the build", async () => {
    const { scripts } = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as {
      scripts: Record<string, string>;
    };
    const [compile] = (scripts.start ?? "").split(" && ");
    expect(compile).toBe("tsc -b packages/gateway/tsconfig.build.json");
    // What that step would do now (the root `npm test` has just built everything).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [TSC, "-b", "packages/gateway/tsconfig.build.json", "--dry", "--verbose"],
      { cwd: ROOT },
    );
    expect(stdout).not.toMatch(/would (build|update)/);
    expect(stdout).toMatch(/Project '[^']*core\/tsconfig\.build\.json' is up to date/);
    expect(stdout).toMatch(/Project '[^']*gateway\/tsconfig\.build\.json' is up to date/);
  });
});
