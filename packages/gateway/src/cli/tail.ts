/** `eventbus tail`: prints the events of a project or an agent as they arrive. */
import type { EventType } from "@eventbus/core";
import { type Command, Option } from "commander";
import { eventTypeList, positiveInteger, uuid } from "./args.js";
import { formatJson, formatLine } from "./format.js";
import { type ChannelRef, connect } from "./remote.js";
import { type ConnectionOptions, connectionOptions } from "./shared.js";

interface TailOptions extends ConnectionOptions {
  readonly project?: string;
  readonly agent?: string;
  readonly types?: EventType[];
  readonly json?: boolean;
  readonly count?: number;
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
    .option("--json", "print one JSON event a line (the wire format) instead of readable lines")
    .addOption(
      new Option("--count <n>", "exit after printing n events").argParser(positiveInteger),
    );
  connectionOptions(command).action(async (options: TailOptions) => {
    const channel = channelOf(options);
    if (channel === undefined) command.error("error: give --project <uuid> or --agent <uuid>");
    const remote = connect(options.url, options.token);
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    let printed = 0;
    try {
      await remote.follow(
        channel,
        options.types === undefined ? undefined : new Set(options.types),
        {
          onOpen: () =>
            process.stderr.write(
              `following ${channel.kind} ${channel.id} on ${options.url.href}\n`,
            ),
          onEvent: (event) => {
            process.stdout.write(`${options.json ? formatJson(event) : formatLine(event)}\n`);
            printed++;
            if (printed === options.count) stop.abort();
          },
          onNotice: (message) => process.stderr.write(`${message}\n`),
        },
        stop.signal,
      );
    } finally {
      await remote.close();
    }
  });
}

function channelOf(options: TailOptions): ChannelRef | undefined {
  if (options.agent !== undefined) return { kind: "agent", id: options.agent };
  if (options.project !== undefined) return { kind: "project", id: options.project };
  return undefined;
}
