import { InvalidChannelError } from "./errors.js";
import { canonicalUuid } from "./uuid.js";

/** The default first segment of every channel name: `events:project:<uuid>`. */
export const DEFAULT_CHANNEL_PREFIX = "events";

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

/** What a channel name addresses: a project's events or an agent's. */
export interface ChannelAddress {
  readonly kind: "project" | "agent";
  readonly id: string;
}

/**
 * Builds and checks channel names under one prefix. The only names it makes or
 * accepts are `<prefix>:project:<uuid>` and `<prefix>:agent:<uuid>` with a
 * lowercase UUID, so caller-supplied text never reaches another channel or a
 * Redis pattern.
 */
export class ChannelNames {
  readonly prefix: string;

  /** @throws {InvalidChannelError} if the prefix is not 1-64 of `A-Z a-z 0-9 _ . -`. */
  constructor(prefix: string = DEFAULT_CHANNEL_PREFIX) {
    if (!PREFIX.test(prefix)) {
      throw new InvalidChannelError(prefix, "a prefix is 1-64 of A-Z a-z 0-9 _ . -");
    }
    this.prefix = prefix;
  }

  /**
   * The channel of one project's events.
   * @throws {InvalidChannelError} if `projectId` is not a UUID (any case; it is lowercased).
   */
  project(projectId: string): string {
    return `${this.prefix}:project:${channelId(projectId)}`;
  }

  /**
   * The channel of one agent's events.
   * @throws {InvalidChannelError} if `agentId` is not a UUID (any case; it is lowercased).
   */
  agent(agentId: string): string {
    return `${this.prefix}:agent:${channelId(agentId)}`;
  }

  /**
   * Says what a channel name addresses.
   * @throws {InvalidChannelError} unless it is exactly a name {@link project} or {@link agent} makes.
   */
  parse(channel: string): ChannelAddress {
    const parts = channel.split(":");
    const [prefix, kind, id] = parts;
    if (parts.length !== 3 || prefix !== this.prefix) {
      throw new InvalidChannelError(
        channel,
        `expected ${this.prefix}:project:<uuid> or ${this.prefix}:agent:<uuid>`,
      );
    }
    if (kind !== "project" && kind !== "agent") {
      throw new InvalidChannelError(channel, `kind must be "project" or "agent"`);
    }
    if (id === undefined || canonicalUuid(id) !== id) {
      throw new InvalidChannelError(channel, "id must be a lowercase UUID");
    }
    return { kind, id };
  }
}

/** `id` lowercased, for a channel name. @throws {InvalidChannelError} unless it is a UUID. */
function channelId(id: string): string {
  const canonical = canonicalUuid(id);
  if (canonical === undefined) throw new InvalidChannelError(String(id), "id must be a UUID");
  return canonical;
}
