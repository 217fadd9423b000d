/**
 * A one-shot RESP2 client for the fixture's own commands (`CLUSTER INFO`,
 * `CLUSTER SETSLOT`, `MIGRATE`...): it connects, sends one command, reads one
 * reply and closes. The fixture needs no Redis client library this way.
 */
import { createConnection } from "node:net";

/** One RESP2 reply: a status or bulk string, an integer, `null`, or an array of replies. */
export type Reply = string | number | null | Reply[];

/** An error reply (`-ERR ...`, `-MOVED ...`); `message` is the server's text. */
export class ReplyError extends Error {
  override readonly name = "ReplyError";
}

/**
 * Sends `args` as one command to the server on 127.0.0.1:`port` and resolves
 * with its reply.
 * @throws {ReplyError} the server answered with an error.
 * @throws {Error} the connection failed, closed early or took longer than `timeoutMs`.
 */
export function command(port: number, args: readonly string[], timeoutMs = 5_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`${args[0]} on port ${port} timed out after ${timeoutMs} ms`)),
    );
    socket.once("error", reject);
    socket.once("connect", () => socket.write(encode(args)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parse(received, 0);
      if (parsed === undefined) return;
      socket.destroy();
      if (parsed.value instanceof ReplyError) reject(parsed.value);
      else resolve(parsed.value);
    });
    socket.once("close", () => reject(new Error(`port ${port} closed before a reply`)));
  });
}

function encode(args: readonly string[]): string {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return text;
}

interface Parsed {
  readonly value: Reply | ReplyError;
  readonly end: number;
}

/** Parses one reply starting at `start`; `undefined` if the buffer does not hold all of it yet. */
function parse(buffer: Buffer, start: number): Parsed | undefined {
  const lineEnd = buffer.indexOf("\r\n", start);
  if (lineEnd === -1) return undefined;
  const line = buffer.toString("utf8", start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buffer[start] ?? 0)) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new ReplyError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString("utf8", next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let index = 0; index < count; index++) {
        const item = parse(buffer, at);
        if (item === undefined) return undefined;
        if (item.value instanceof ReplyError) return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      return { value: new ReplyError(`unexpected reply: ${line}`), end: next };
  }
}
