import { type Summary, summarize } from "./stats.js";

/** One figure a scenario measures, such as events per second. */
export interface Metric {
  /** The key in each {@link Sample} and in the JSON report. */
  readonly key: string;
  /** The unit as printed, such as `events/s`. */
  readonly unit: string;
  /** Which way is better: ratios above 1 are good for `higher`, below 1 for `lower`. */
  readonly better: "higher" | "lower";
}

/** One measured run of one contender: a value for each metric key. */
export type Sample = Readonly<Record<string, number>>;

/** A contender as a scenario runs it: opened once, run round after round, closed. */
export interface Runner {
  readonly name: string;
  /** One measured run. */
  run(): Promise<Sample>;
  close(): Promise<void>;
}

/**
 * A target of the issue, checked on the figures of one run:
 * - `ratio`: median over rounds of `contender / versus` is at least (or at most) `bound`;
 * - `offset`: median over rounds of `contender - versus` is at most `bound`;
 * - `absolute`: the contender's median is at least (or at most) `bound`.
 */
export type Target =
  | {
      readonly kind: "ratio";
      readonly metric: string;
      readonly contender: string;
      readonly versus: string;
      readonly atLeast?: number;
      readonly atMost?: number;
    }
  | {
      readonly kind: "offset";
      readonly metric: string;
      readonly contender: string;
      readonly versus: string;
      readonly atMost: number;
    }
  | {
      readonly kind: "absolute";
      readonly metric: string;
      readonly contender: string;
      readonly atLeast?: number;
      readonly atMost?: number;
    };

/** What every scenario gets from the suite. */
export interface Context {
  /** The Redis server the suite started for this run. */
  readonly redisUrl: string;
  /** Whether to run this contender (`--contenders` narrows a run down for profiling). */
  selected(contender: string): boolean;
  /** Reports progress on stderr. */
  progress(message: string): void;
}

/** A benchmark scenario: what it measures and how it sets up its contenders. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** What one run does, in a sentence for the report. */
  readonly description: string;
  readonly metrics: readonly Metric[];
  /** The names of the contenders {@link Scenario.open} sets up, in run order. */
  readonly contenders: readonly string[];
  /** The contender every ratio is taken against. */
  readonly reference: string;
  readonly targets: readonly Target[];
  readonly warmups: number;
  readonly rounds: number;
  /** Opens every contender (connections, subscriptions) before the first round. */
  open(context: Context): Promise<Runner[]>;
}

/** Who runs in a scenario and how often: what every scenario's spec declares. */
export interface Lineup {
  readonly contenders: readonly { readonly name: string }[];
  /** The contender every ratio is taken against. */
  readonly reference: { readonly name: string };
  readonly targets: readonly Target[];
  readonly warmups: number;
  readonly rounds: number;
}

/** The {@link Scenario} fields of a {@link Lineup}. */
export function lineupOf(
  spec: Lineup,
): Pick<Scenario, "contenders" | "reference" | "targets" | "warmups" | "rounds"> {
  return {
    contenders: spec.contenders.map((contender) => contender.name),
    reference: spec.reference.name,
    targets: spec.targets,
    warmups: spec.warmups,
    rounds: spec.rounds,
  };
}

/**
 * Opens the selected `contenders` with `open`, one after another, or side by
 * side if `together` (nothing is measured while opening; processes take
 * seconds each to start). If one fails, closes those that opened and rethrows.
 */
export async function openSelected<C extends { readonly name: string }>(
  contenders: readonly C[],
  context: Context,
  open: (contender: C) => Promise<Runner>,
  { together = false }: { readonly together?: boolean } = {},
): Promise<Runner[]> {
  const selected = contenders.filter((contender) => context.selected(contender.name));
  const runners: Runner[] = [];
  let failure: { readonly error: unknown } | undefined;
  const openOne = async (contender: C): Promise<void> => {
    try {
      runners.push(await open(contender));
    } catch (error) {
      failure ??= { error };
    }
  };
  if (together) await Promise.all(selected.map(openOne));
  else for (const contender of selected) if (failure === undefined) await openOne(contender);
  if (failure !== undefined) {
    for (const runner of runners) await runner.close();
    throw failure.error;
  }
  // In the order declared, whatever order they opened in.
  return selected.flatMap((contender) =>
    runners.filter((runner) => runner.name === contender.name),
  );
}

/** A contender's figures in one scenario. */
export interface ContenderResult {
  readonly name: string;
  /** Per metric: every round's value, and their median, min and max. */
  readonly metrics: Readonly<Record<string, Summary & { readonly samples: readonly number[] }>>;
  /** Per metric: this round's value over the reference's in the same round, summarized. */
  readonly ratios: Readonly<Record<string, Summary>>;
}

/** A target with the figure that decides it. */
export interface TargetResult {
  readonly target: Target;
  readonly text: string;
  readonly value: number;
  readonly met: boolean;
}

/** Everything one scenario measured. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly metrics: readonly Metric[];
  readonly reference: string;
  readonly rounds: number;
  readonly contenders: readonly ContenderResult[];
  readonly targets: readonly TargetResult[];
  /** Why the scenario stopped before its last round, if it did; it then has no figures. */
  readonly failure?: string;
}

/**
 * Runs a scenario: opens every contender, runs each once per warm-up, then in
 * each round runs them one after another (A B C A B C ...), so that the noise of
 * a shared machine falls on all alike, and ratios are taken pair by pair within
 * a round. Collects garbage before each run where `--expose-gc` allows.
 */
export async function runScenario(scenario: Scenario, context: Context): Promise<ScenarioResult> {
  const runners = await scenario.open(context);
  const samples = new Map<string, Sample[]>(runners.map((runner) => [runner.name, []]));
  try {
    const total = scenario.warmups + scenario.rounds;
    for (let round = 0; round < total; round++) {
      const warmup = round < scenario.warmups;
      for (const runner of runners) {
        collectGarbage();
        const sample = await runner.run();
        const label = warmup
          ? "warm-up"
          : `round ${round - scenario.warmups + 1}/${scenario.rounds}`;
        context.progress(
          `${scenario.id} ${label} ${runner.name}: ${formatSample(scenario, sample)}`,
        );
        if (!warmup) samples.get(runner.name)?.push(sample);
      }
    }
  } finally {
    for (const runner of runners) await runner.close();
  }
  const contenders = runners.map((runner) =>
    contenderResult(scenario, runner.name, samples.get(runner.name) ?? [], samples),
  );
  return {
    ...headingOf(scenario),
    contenders,
    // A target whose contenders were not all run (`--contenders`) has no figure to decide it.
    targets: scenario.targets
      .filter((target) => measured(target, samples))
      .map((target) => evaluate(target, samples)),
  };
}

/** What a result repeats of its scenario. */
function headingOf(
  scenario: Scenario,
): Pick<ScenarioResult, "id" | "title" | "description" | "metrics" | "reference" | "rounds"> {
  const { id, title, description, metrics, reference, rounds } = scenario;
  return { id, title, description, metrics, reference, rounds };
}

/**
 * As {@link runScenario}, but a scenario that fails (a run that times out, a
 * connection the shared machine starved until it dropped) is reported as
 * failed, with no figures, and the suite goes on with the next one.
 */
export async function runOrReport(scenario: Scenario, context: Context): Promise<ScenarioResult> {
  try {
    return await runScenario(scenario, context);
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error);
    context.progress(`${scenario.id} FAILED: ${failure}`);
    return { ...headingOf(scenario), contenders: [], targets: [], failure };
  }
}

/**
 * Runs full collections if the process was started with `--expose-gc`: three,
 * as objects freed by one (weak references, finalizers) may need more.
 */
export function collectGarbage(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

function contenderResult(
  scenario: Scenario,
  name: string,
  own: readonly Sample[],
  all: ReadonlyMap<string, readonly Sample[]>,
): ContenderResult {
  const reference = all.get(scenario.reference) ?? [];
  const metrics: Record<string, Summary & { samples: number[] }> = {};
  const ratios: Record<string, Summary> = {};
  for (const { key } of scenario.metrics) {
    const values = own.map((sample) => figureOf(sample, key));
    metrics[key] = { ...summarize(values), samples: values };
    if (reference.length > 0)
      ratios[key] = summarize(pairwise(own, reference, key, (a, b) => a / b));
  }
  return { name, metrics, ratios };
}

/** Whether every contender `target` compares ran in this scenario. */
function measured(target: Target, samples: ReadonlyMap<string, readonly Sample[]>): boolean {
  return (
    samples.has(target.contender) && (target.kind === "absolute" || samples.has(target.versus))
  );
}

function evaluate(target: Target, samples: ReadonlyMap<string, readonly Sample[]>): TargetResult {
  const own = samples.get(target.contender) ?? [];
  switch (target.kind) {
    case "ratio": {
      const versus = samples.get(target.versus) ?? [];
      const value = summarize(pairwise(own, versus, target.metric, (a, b) => a / b)).median;
      const { op, bound, met } = check(target, value);
      return {
        target,
        value,
        met,
        text: `${target.contender} ${target.metric} ${op} ${bound}x ${target.versus}: ${value.toFixed(2)}x`,
      };
    }
    case "offset": {
      const versus = samples.get(target.versus) ?? [];
      const value = summarize(pairwise(own, versus, target.metric, (a, b) => a - b)).median;
      return {
        target,
        value,
        met: value <= target.atMost,
        text: `${target.contender} ${target.metric} <= ${target.versus} + ${target.atMost}: ${signed(value)}`,
      };
    }
    case "absolute": {
      const value = summarize(own.map((sample) => figureOf(sample, target.metric))).median;
      const { op, bound, met } = check(target, value);
      return {
        target,
        value,
        met,
        text: `${target.contender} ${target.metric} ${op} ${bound.toLocaleString("en-US")}: ${Math.round(value).toLocaleString("en-US")}`,
      };
    }
  }
}

/** Whether `value` is within a target's `atLeast` or `atMost` bound. */
function check(
  target: { readonly atLeast?: number; readonly atMost?: number },
  value: number,
): { op: ">=" | "<="; bound: number; met: boolean } {
  if (target.atLeast !== undefined) {
    return { op: ">=", bound: target.atLeast, met: value >= target.atLeast };
  }
  const bound = target.atMost ?? Number.NaN;
  return { op: "<=", bound, met: value <= bound };
}

/** `combine(own[i], versus[i])` for each round both ran. */
function pairwise(
  own: readonly Sample[],
  versus: readonly Sample[],
  key: string,
  combine: (a: number, b: number) => number,
): number[] {
  const rounds = Math.min(own.length, versus.length);
  return Array.from({ length: rounds }, (_, i) =>
    combine(figureOf(own[i] as Sample, key), figureOf(versus[i] as Sample, key)),
  );
}

function figureOf(sample: Sample, key: string): number {
  return sample[key] ?? Number.NaN;
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(3)}`;
}

function formatSample(scenario: Scenario, sample: Sample): string {
  return scenario.metrics
    .map(({ key, unit }) => `${formatNumber(figureOf(sample, key))} ${unit}`)
    .join(", ");
}

/** A figure for people: thousands separated, three significant digits below 100. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}
