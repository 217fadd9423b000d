/** `eventbus publish`: publishes one event to a project (or an agent) and prints it. */
import type { EventType, JsonObject } from "@eventbus/core";
import { type Command, Option } from "commander";
import { type Actor, actor, eventType, jsonObject, positiveInteger, uuid } from "./args.js";
import { formatJson } from "./format.js";
import { connect } from "./remote.js";
import { type ConnectionOptions, connectionOptions } from "./shared.js";

interface PublishOptions extends ConnectionOptions {
  readonly project: string;
  readonly agent?: string;
  readonly type: EventType;
  readonly actor: Actor;
  readonly payload: JsonObject;
  readonly historyMaxEntries?: number;
  readonly historyTtlMs?: number;
}

/** Adds the `publish` command to `program`. */
export function publishCommand(program: Command): void {
  const command = program
    .command("publish")
    .description(
      "publish one event to a project's channel (or, with --agent, an agent's) and print it as JSON",
    )
    .addOption(
      new Option("--project <uuid>", "the event's project").argParser(uuid).makeOptionMandatory(),
    )
    .addOption(
      new Option("--agent <uuid>", "publish on this agent's channel instead").argParser(uuid),
    )
    .addOption(
      new Option("--type <type>", "the event type").argParser(eventType).makeOptionMandatory(),
    )
    .addOption(
      new Option("--actor <actor>", "who acted: system, agent[:<uuid>] or user[:<uuid>]")
        .argParser(actor)
        .default({ actor_type: "system", actor_id: null }, "system"),
    )
    .addOption(
      new Option("--payload <json>", "the payload, a JSON object")
        .argParser(jsonObject)
        .default({}, "{}"),
    )
    .addOption(
      new Option(
        "--history-max-entries <n>",
        "straight on Redis: publish with history, keeping this many events per channel (give the gateways' --history-max-entries); a gateway publishes with its own settings",
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        "--history-ttl-ms <ms>",
        "with --history-max-entries: how long the channel's events are kept after its last publish (default 24 h)",
      ).argParser(positiveInteger),
    );
  connectionOptions(command).action(async (options: PublishOptions) => {
    const { historyMaxEntries: maxEntries, historyTtlMs: ttlMs } = options;
    const direct = options.url.protocol !== "http:" && options.url.protocol !== "https:";
    if ((maxEntries !== undefined || ttlMs !== undefined) && !direct) {
      command.error(
        "error: --history-max-entries and --history-ttl-ms apply to a Redis bus (--url redis://...); a gateway publishes with its own history settings",
      );
    }
    if (ttlMs !== undefined && maxEntries === undefined) {
      command.error("error: --history-ttl-ms needs --history-max-entries");
    }
    const busHistory =
      maxEntries === undefined ? false : { maxEntries, ...(ttlMs === undefined ? {} : { ttlMs }) };
    const remote = connect(options.url, { token: options.token, busHistory });
    try {
      const channel =
        options.agent === undefined
          ? ({ kind: "project", id: options.project } as const)
          : ({ kind: "agent", id: options.agent } as const);
      const event = await remote.publish(channel, {
        type: options.type,
        projectId: options.project,
        actor: options.actor,
        payload: options.payload,
      });
      process.stdout.write(`${formatJson(event)}\n`);
    } finally {
      await remote.close();
    }
  });
}
