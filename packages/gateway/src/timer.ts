/**
 * Timers past Node's limit: `setTimeout` takes at most 2^31 - 1 ms (about
 * 24.8 days) and fires at once for a larger delay.
 */

/** The longest delay `setTimeout` honours, in milliseconds. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `task` at `date` (at once if it has passed), reaching a deadline
 * beyond {@link MAX_TIMER_MS} in steps; the timer does not keep the process
 * alive. Returns a function that cancels it.
 */
export function at(date: Date, task: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = date.getTime() - Date.now();
    if (delay <= 0) {
      task();
      return;
    }
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS)).unref();
  };
  arm();
  return () => clearTimeout(timer);
}
