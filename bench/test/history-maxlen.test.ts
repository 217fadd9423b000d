import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const benchDir = resolve(import.meta.dirname, "..");

describe("bench - history-maxlen", () => {
  it("bench - history-maxlen in quick mode reports every variant, with exact trimming keeping maxEntries", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "src/history-maxlen.ts", "--quick", "--json", "--events", "1500"],
      { cwd: benchDir },
    );
    const { rows } = JSON.parse(stdout) as {
      rows: {
        variant: string;
        eventsPerSecond: number;
        retained?: number;
        bytesPerEntry?: number;
      }[];
    };
    expect(rows.map((row) => row.variant)).toEqual([
      "PUBLISH (no history)",
      "history, MAXLEN =",
      "history, MAXLEN ~",
    ]);
    for (const row of rows) expect(row.eventsPerSecond).toBeGreaterThan(0);
    const [, exact, approximate] = rows;
    expect(exact?.retained).toBe(1_000);
    expect(approximate?.retained).toBeGreaterThanOrEqual(1_000);
    expect(exact?.bytesPerEntry).toBeGreaterThan(300);
  }, 120_000);
});
