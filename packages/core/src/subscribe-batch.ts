/**
 * Where a {@link SubscribeBatch} is: waiting to go out (`queued`: collecting
 * this turn's channels, or closed and waiting for the transport to open),
 * handed to the transport (`sent`), or answered (`confirmed`, `failed`).
 */
export type BatchState = "queued" | "sent" | "confirmed" | "failed";

const noop = (): void => {};

interface Settle {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * One SUBSCRIBE command: the channels first wanted during one turn, sent
 * together, and the server's answer, which every subscriber of those channels
 * waits on as its `ready`. Only the {@link SubscriptionPlanner} moves it from
 * state to state; it does no I/O.
 */
export class SubscribeBatch {
  /** Settles with the server's answer: resolves once confirmed, rejects with the failure. */
  readonly confirmation: Promise<void>;
  readonly #settle: Settle;
  #state: BatchState = "queued";
  readonly #channels: string[] = [];

  constructor() {
    let settle: Settle | undefined;
    this.confirmation = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.#settle = settle as Settle;
    // Its subscribers may all have left: a failure nobody waits on is no unhandled rejection.
    this.confirmation.catch(noop);
  }

  /** See {@link BatchState}. */
  get state(): BatchState {
    return this.#state;
  }

  /** The channels to SUBSCRIBE, in the order first wanted. */
  get channels(): readonly string[] {
    return this.#channels;
  }

  /** Adds a channel; only while the planner collects this turn's batch. */
  add(channel: string): void {
    this.#channels.push(channel);
  }

  /** The batch goes to the transport now: its channels count as live. */
  send(): void {
    this.#state = "sent";
  }

  /** The server confirmed every channel. */
  confirm(): void {
    this.#state = "confirmed";
    this.#settle.resolve();
  }

  /** The server, or the transport, refused the command. */
  fail(error: Error): void {
    this.#state = "failed";
    this.#settle.reject(error);
  }
}
