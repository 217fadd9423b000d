/**
 * `eventbus tail`: prints the events of a project or an agent as they arrive;
 * first the last n retained ones with `--last`, or every one after a position
 * with `--since` (a resume: none missed, none twice, or a notice saying what
 * cannot be recovered).
 */
import { type EventType, HISTORY_DEFAULTS } from "@eventbus/core";
import { type Command, Option } from "commander";
import { eventTypeList, position, positiveInteger, uuid } from "./args.js";
import { formatJson, formatLine } from "./format.js";
import { type PrintEvent, RecentFirst } from "./recent-first.js";
import { type ChannelRef, connect } from "./remote.js";
import { type ConnectionOptions, connectionOptions } from "./shared.js";

interface TailOptions extends ConnectionOptions {
  readonly project?: string;
  readonly agent?: string;
  readonly types?: EventType[];
  readonly json?: boolean;
  readonly count?: number;
  readonly last?: number;
  readonly since?: string;
}

/** Adds the `tail` command to `program`. */
export function tailCommand(program: Command): void {
  const command: Command = program
    .command("tail")
    .description("print the events of a project or an agent as they arrive, until Ctrl-C")
    .addOption(
      new Option("--project <uuid>", "follow this project").argParser(uuid).conflicts("agent"),
    )
    .addOption(new Option("--agent <uuid>", "follow this agent").argParser(uuid))
    .addOption(
      new Option("--types <types>", "only these event types, comma-separated").argParser(
        eventTypeList,
      ),
    )
    .addOption(
      new Option(
        "--last <n>",
        "first print the last n retained events (of every type, before --types), then follow",
      )
        .argParser(positiveInteger)
        .conflicts("since"),
    )
    .addOption(
      new Option(
        "--since <position>",
        "first print every retained event after this position (a --json position), then follow",
      ).argParser(position),
    )
    .option(
      "--json",
      'print one JSON event a line (the wire format, with a last "position" member where known) instead of readable lines',
    )
    .addOption(
      new Option("--count <n>", "exit after printing n events").argParser(positiveInteger),
    );
  connectionOptions(command).action(async (options: TailOptions) => {
    const channel = channelOf(options);
    if (channel === undefined) command.error("error: give --project <uuid> or --agent <uuid>");
    const remote = connect(options.url, {
      token: options.token,
      // Straight on a bus: its own history, to read the last n and know live events' positions.
      busHistory: { maxEntries: Math.max(options.last ?? 1, HISTORY_DEFAULTS.maxEntries) },
    });
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    const types = options.types === undefined ? undefined : new Set(options.types);
    let printed = 0;
    const print: PrintEvent = (event, position) => {
      if (printed === options.count || (types !== undefined && !types.has(event.type))) return;
      process.stdout.write(`${options.json ? formatJson(event, position) : formatLine(event)}\n`);
      printed++;
      if (printed === options.count) stop.abort();
    };
    const order = new RecentFirst(print);
    let opened = false;
    let failure: unknown;
    try {
      await remote.follow(
        channel,
        { types, since: options.since },
        {
          onOpen: () => {
            process.stderr.write(
              `following ${channel.kind} ${channel.id} on ${options.url.href}\n`,
            );
            if (opened) return;
            opened = true;
            if (options.last === undefined) return order.recent([]);
            remote.recent(channel, options.last).then(
              (events) => {
                if (events === undefined) {
                  process.stderr.write(
                    "the gateway keeps no history: nothing before now to print\n",
                  );
                }
                order.recent(events ?? []);
              },
              (error: unknown) => {
                failure = error;
                stop.abort();
              },
            );
          },
          onEvent: (event, position) => order.live(event, position),
          onNotice: (message) => process.stderr.write(`${message}\n`),
        },
        stop.signal,
      );
    } finally {
      await remote.close();
    }
    if (failure !== undefined) throw failure;
  });
}

function channelOf(options: TailOptions): ChannelRef | undefined {
  if (options.agent !== undefined) return { kind: "agent", id: options.agent };
  if (options.project !== undefined) return { kind: "project", id: options.project };
  return undefined;
}
