/**
 * Runs the Python service of the interop tests (`fixtures/python/interop.py`,
 * on the original pydantic model) with Debian's `/usr/bin/python3`, which
 * needs `python3-redis` and `python3-pydantic` (`.ci/run` installs them).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const INTEROP = fileURLToPath(new URL("fixtures/python/interop.py", import.meta.url));
const INSTALL_HINT =
  "the Python interop tests need /usr/bin/python3 with redis and pydantic: apt-get install -y python3-redis python3-pydantic";

/** A running `interop.py`, and the JSON lines it printed. */
export interface PythonProcess {
  /** Every line printed so far, parsed as JSON. */
  readonly lines: unknown[];
  /** Resolves once the process exited with code 0; rejects with its stderr otherwise. */
  readonly exited: Promise<void>;
  /** Waits until `count` lines were printed (failing after `timeoutMs`, or if the process failed). */
  waitForLines(count: number, timeoutMs?: number): Promise<unknown[]>;
  /** Stops the process (by its pid) if it still runs. */
  stop(): void;
}

/** Starts `interop.py <command> <args...>`; see the script's description for the commands. */
export function runPython(command: string, args: readonly string[]): PythonProcess {
  const child: ChildProcess = spawn(PYTHON, [INTEROP, command, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: unknown[] = [];
  let pending = "";
  let stderr = "";
  let failure: Error | undefined;
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n")) {
      lines.push(JSON.parse(pending.slice(0, end)));
      pending = pending.slice(end + 1);
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", (error) =>
      reject(new Error(`${PYTHON}: ${error.message}. ${INSTALL_HINT}`)),
    );
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const hint = /No module named/.test(stderr) ? ` ${INSTALL_HINT}` : "";
        reject(
          new Error(
            `interop.py ${command} ended with ${signal ?? `code ${code}`}: ${stderr}${hint}`,
          ),
        );
      }
    });
  });
  exited.catch((error: Error) => {
    failure = error;
  });
  return {
    lines,
    exited,
    async waitForLines(count, timeoutMs = 10_000) {
      await waitFor(
        () => {
          if (failure !== undefined && lines.length < count) throw failure;
          return lines.length >= count;
        },
        { timeoutMs, message: `${count} lines from interop.py ${command}` },
      );
      return lines.slice(0, count);
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, "SIGTERM");
      }
    },
  };
}
