import { describe, expect, it } from "vitest";
import { formatComment, formatMessage, formatRetry } from "../src/sse.js";

describe("sse format", () => {
  it("sse - formats event, id and data lines ending with a blank line", () => {
    expect(formatMessage({ event: "issue.created", id: "e1", data: '{"a":1}' })).toBe(
      'event: issue.created\nid: e1\ndata: {"a":1}\n\n',
    );
  });

  it("sse - splits data on every kind of line break into data lines", () => {
    expect(formatMessage({ data: "one\ntwo\r\nthree\rfour" })).toBe(
      "data: one\ndata: two\ndata: three\ndata: four\n\n",
    );
  });

  it.each([
    ["event", { event: "a\nb", data: "" }],
    ["event", { event: "a\rb", data: "" }],
    ["id", { id: "a\nevent: forged", data: "" }],
    ["id", { id: "a\rb", data: "" }],
  ])("sse - refuses a line break in %s", (_field, message) => {
    expect(() => formatMessage(message)).toThrow(TypeError);
  });

  it("sse - refuses NUL in id, which browsers would silently ignore", () => {
    expect(() => formatMessage({ id: "a\0b", data: "" })).toThrow(TypeError);
  });

  it("sse - formats comments and the retry hint", () => {
    expect(formatComment("heartbeat")).toBe(": heartbeat\n\n");
    expect(() => formatComment("a\nb")).toThrow(TypeError);
    expect(formatRetry(3000)).toBe("retry: 3000\n\n");
    expect(() => formatRetry(-1)).toThrow(RangeError);
  });
});
