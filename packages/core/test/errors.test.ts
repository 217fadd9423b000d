import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import { ErrorCode, EventBusError } from "../src/index.js";

const documentedCodes = [
  ...readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8").matchAll(
    /^\| `(EVENTBUS_[A-Z_]+)`\s*\|/gm,
  ),
].map((match) => match[1]);

function errorClasses(): unknown[] {
  return Object.values(core).filter(
    (value: unknown) => typeof value === "function" && value.prototype instanceof EventBusError,
  );
}

describe("errors - catalogue", () => {
  it("documents every code in docs/errors.md, and only those", () => {
    expect([...documentedCodes].sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it("exports one class per code, each with its own name and code", () => {
    const samples: EventBusError[] = [
      new core.ValidationError([{ path: ["type"], message: "bad" }]),
      new core.InvalidChannelError("x", "bad"),
      new core.ChannelMismatchError("events:project:a", "b"),
      new core.EventTooLargeError(2, 1),
      new core.MalformedMessageError("c", "json", "x"),
      new core.SlowConsumerError(1),
      new core.BusClosedError(),
      new core.UnsupportedUrlError("ftp://x", "bad"),
      new core.NotConnectedError("down"),
      new core.ConnectionRejectedError("wrong password"),
      new core.SubscribeFailedError(["c"]),
      new core.PublishFailedError("c"),
      new core.InvalidPositionError("x", "bad"),
      new core.HistoryReadFailedError("c"),
      new core.HistoryDisabledError(),
    ];
    expect(samples.map((error) => error.code).sort()).toEqual(Object.values(ErrorCode).sort());
    expect(errorClasses()).toHaveLength(samples.length);
    for (const error of samples) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect(error.message).not.toBe("");
    }
  });

  it("keeps the cause and lists validation issues in the message", () => {
    const cause = new SyntaxError("Unexpected token");
    const error = new core.ValidationError(
      [{ path: ["payload", "items", 0], message: "must be a string" }],
      { cause },
    );
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("invalid event: payload.items.0: must be a string");
  });

  it("never carries a URL's password", () => {
    const error = new core.UnsupportedUrlError("redis://user:s3cret@host:6379/0", "bad");
    expect(error.message).not.toContain("s3cret");
    expect(error.url).toBe("redis://user:***@host:6379/0");
  });

  it("keeps at most 100 characters of an invalid position", () => {
    const error = new core.InvalidPositionError("p".repeat(5_000), "too long");
    expect(error.position.length).toBeLessThanOrEqual(101);
    expect(error.message.length).toBeLessThan(200);
  });

  it("keeps at most 1 KiB of a malformed message", () => {
    const error = new core.MalformedMessageError("c", "json", "x".repeat(5_000));
    expect(error.excerpt.length).toBeLessThanOrEqual(1_025);
  });
});
