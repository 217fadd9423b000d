import { describe, expect, it } from "vitest";
import { ChannelNames, InvalidChannelError } from "../src/index.js";

const uuid = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";

describe("channels - names", () => {
  it("builds project and agent channels under the default prefix", () => {
    const names = new ChannelNames();
    expect(names.project(uuid)).toBe(`events:project:${uuid}`);
    expect(names.agent(uuid)).toBe(`events:agent:${uuid}`);
  });

  it("lowercases a UUID given in capitals and honours a custom prefix", () => {
    expect(new ChannelNames("tenant-7").project(uuid.toUpperCase())).toBe(
      `tenant-7:project:${uuid}`,
    );
  });

  it.each([
    "",
    "not-a-uuid",
    `${uuid}*`,
    `${uuid}:x`,
    "*",
    `{${uuid}}`,
    ` ${uuid}`,
    "6f1c2a3b4d5e4f608a1b2c3d4e5f6a7b",
  ])("refuses the id %j", (id) => {
    expect(() => new ChannelNames().project(id)).toThrow(InvalidChannelError);
    expect(() => new ChannelNames().agent(id)).toThrow(InvalidChannelError);
  });

  it.each(["", "a:b", "a*", "x".repeat(65), "sp ace"])("refuses the prefix %j", (prefix) => {
    expect(() => new ChannelNames(prefix)).toThrow(InvalidChannelError);
  });
});

describe("channels - parse", () => {
  const names = new ChannelNames();

  it("says what a channel addresses", () => {
    expect(names.parse(`events:project:${uuid}`)).toEqual({ kind: "project", id: uuid });
    expect(names.parse(`events:agent:${uuid}`)).toEqual({ kind: "agent", id: uuid });
  });

  it.each([
    `events:project:${uuid.toUpperCase()}`,
    `events:sprint:${uuid}`,
    `other:project:${uuid}`,
    `events:project:${uuid}:extra`,
    "events:project:*",
    "events:*",
    "events:project:",
  ])("refuses %j", (channel) => {
    const error = (() => {
      try {
        names.parse(channel);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidChannelError);
    expect((error as InvalidChannelError).code).toBe("EVENTBUS_INVALID_CHANNEL");
    expect((error as InvalidChannelError).channel).toBe(channel);
  });
});
