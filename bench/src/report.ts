import { cpus, loadavg, totalmem } from "node:os";
import { formatNumber, type ScenarioResult } from "./harness.js";

/** Where and when the figures were measured. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly redis: string;
}

/** The JSON file the suite writes: every figure of one run. */
export interface Report {
  readonly date: string;
  readonly quick: boolean;
  readonly machine: Machine;
  /** The 1-minute load average when the run started and when it ended: how busy the shared machine was. */
  readonly load: { readonly start: number; readonly end: number };
  readonly scenarios: readonly ScenarioResult[];
}

/** The 1-minute load average: runnable processes, averaged; above the core count, processes wait for a core. */
export function loadAverage(): number {
  return loadavg()[0] ?? Number.NaN;
}

/** Describes this machine, given the version the Redis server reported. */
export function describeMachine(redisVersion: string): Machine {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: redisVersion,
  };
}

/**
 * The report as Markdown tables, one per scenario: median, min and max of
 * each figure per contender, the ratio to the reference taken round by round,
 * and each target met or not.
 */
export function renderMarkdown(report: Report): string {
  const { machine } = report;
  const lines = [
    `Run of ${report.date}${report.quick ? " (quick mode: figures not meaningful)" : ""}`,
    `on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, Redis ${machine.redis}; load average ${report.load.start.toFixed(1)} at the start, ${report.load.end.toFixed(1)} at the end.`,
    "",
  ];
  for (const scenario of report.scenarios) {
    lines.push(`### ${scenario.title}`, "", scenario.description, "");
    if (scenario.failure !== undefined) {
      lines.push(`**Failed:** ${scenario.failure.split("\n")[0]}`, "");
      continue;
    }
    const header = ["contender"];
    for (const metric of scenario.metrics) {
      header.push(`${metric.unit} median`, "min", "max", `ratio (${metric.better} is better)`);
    }
    lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
    for (const contender of scenario.contenders) {
      const cells = [contender.name];
      for (const { key } of scenario.metrics) {
        const figure = contender.metrics[key];
        const ratio = contender.ratios[key];
        cells.push(
          formatNumber(figure?.median ?? Number.NaN),
          formatNumber(figure?.min ?? Number.NaN),
          formatNumber(figure?.max ?? Number.NaN),
          ratio === undefined
            ? "-"
            : `${ratio.median.toFixed(2)}x (${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)})`,
        );
      }
      lines.push(`| ${cells.join(" | ")} |`);
    }
    lines.push("");
    lines.push(
      scenario.contenders.some((contender) => contender.name === scenario.reference)
        ? `Ratios: each round's figure over ${scenario.reference}'s in the same round; median (min-max) of ${scenario.rounds} rounds.`
        : `No ratios: the reference, ${scenario.reference}, was not run.`,
    );
    for (const target of scenario.targets) {
      lines.push(`- Target ${target.met ? "met" : "NOT met"}: ${target.text}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
