/**
 * Requests between the suite and the processes it starts (the servers under
 * test and the load generator), over Node's IPC channel: the parent sends
 * `{ id, op, args }`, the child answers `{ id, result }` or `{ id, error }`.
 * A process of its own for each, so what is measured is one server's CPU and
 * memory, and the load generator's work is not counted against it.
 */
import { type ChildProcess, fork } from "node:child_process";

interface Request {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

type Reply =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };

/** What a child process answers: one async handler per operation. */
export type Handlers = Readonly<Record<string, (args: never) => Promise<unknown>>>;

/** A child process started with {@link startChild}, answering requests. */
export class Child {
  readonly #process: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >();
  #nextId = 0;
  #exited: Error | undefined;

  constructor(child: ChildProcess, name: string) {
    this.#process = child;
    child.on("message", (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if ("error" in reply) pending?.reject(new Error(`${name}: ${reply.error}`));
      else pending?.resolve(reply.result);
    });
    child.once("exit", (code, signal) => {
      this.#exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const pending of this.#pending.values()) pending.reject(this.#exited);
      this.#pending.clear();
    });
  }

  /** Asks the child to run `op`; resolves with its result. */
  request<T>(op: string, args: unknown = {}): Promise<T> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#process.send({ id, op, args } satisfies Request);
    });
  }

  /** Asks the child to close (its `close` handler), then waits for it to exit; kills it if it does not. */
  async stop(): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise((resolve) => this.#process.once("exit", resolve));
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), 10_000);
    try {
      await this.request("close").catch(() => {});
      this.#process.disconnect();
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Starts `script` (a module of this suite) in a Node process of its own, with
 * this process's flags (tsx, `--expose-gc`). Its stdout goes to our stderr:
 * our stdout carries the report.
 */
export function startChild(script: URL, args: readonly string[], name: string): Child {
  const execArgv = process.execArgv.includes("--expose-gc")
    ? process.execArgv
    : ["--expose-gc", ...process.execArgv];
  const child = fork(script.pathname, [...args], { execArgv, stdio: ["ignore", 2, 2, "ipc"] });
  return new Child(child, name);
}

/**
 * In a child: answers the parent's requests with `handlers` until the IPC
 * channel closes. `close` is expected among them; the process exits after
 * answering it (and once the channel closes, in any case).
 */
export function serveRequests(handlers: Handlers): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error("not started with an IPC channel");
  process.on("message", async ({ id, op, args }: Request) => {
    const handler = handlers[op];
    try {
      if (handler === undefined) throw new Error(`unknown operation ${op}`);
      send({ id, result: (await handler(args as never)) ?? null } satisfies Reply);
    } catch (error) {
      send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  process.once("disconnect", () => process.exit(0));
}
