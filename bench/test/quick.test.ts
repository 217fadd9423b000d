import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Report } from "../src/report.js";
import { scenarios } from "../src/scenarios/index.js";

const benchDir = resolve(import.meta.dirname, "..");
const outDir = mkdtempSync(join(tmpdir(), "eventbus-bench-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("bench", () => {
  it("bench - quick mode completes and reports every figure of every scenario", async () => {
    const out = join(outDir, "quick.json");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "src/main.ts", "--quick", "--out", out],
      { cwd: benchDir, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    const planned = scenarios({ quick: true });

    expect(report.quick).toBe(true);
    expect(report.scenarios.map((s) => s.id)).toEqual(planned.map((s) => s.id));
    for (const [i, scenario] of report.scenarios.entries()) {
      const plan = planned[i];
      expect(stdout).toContain(scenario.title);
      expect(scenario.contenders.map((c) => c.name)).toEqual(plan?.contenders);
      for (const contender of scenario.contenders) {
        for (const { key } of scenario.metrics) {
          const figure = contender.metrics[key];
          expect(figure?.samples, `${scenario.id} ${contender.name} ${key}`).toHaveLength(
            scenario.rounds,
          );
          for (const value of [
            figure?.median,
            figure?.min,
            figure?.max,
            ...(figure?.samples ?? []),
          ]) {
            expect(Number.isFinite(value), `${scenario.id} ${contender.name} ${key}`).toBe(true);
          }
          const ratio = contender.ratios[key];
          expect(Number.isFinite(ratio?.median), `${scenario.id} ${contender.name} ratio`).toBe(
            true,
          );
        }
      }
      expect(scenario.targets).toHaveLength(plan?.targets.length ?? -1);
      for (const target of scenario.targets) {
        expect(Number.isFinite(target.value), target.text).toBe(true);
        expect(typeof target.met).toBe("boolean");
      }
    }
  }, 900_000);
});
