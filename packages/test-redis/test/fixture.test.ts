import { createConnection } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../src/index.js";

/** Sends one inline command and resolves with the first reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write(`${line}\r\n`));
    socket.once("error", reject);
    socket.on("data", (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString().split("\r\n")[0] ?? "");
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startRedisServer", () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("fixture - starts a server that accepts commands, restarts on the same port, stops by pid", async () => {
    const server = await startRedisServer();
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await command(server.port, "PING")).toBe("+PONG");
    expect(await command(server.port, "CONFIG GET save")).toBe("*2");

    const first = server.pid;
    await server.kill();
    expect(isRunning(first)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(first);
    expect(await command(server.port, "PING")).toBe("+PONG");

    const second = server.pid;
    await server.stop();
    await server.stop();
    expect(isRunning(second)).toBe(false);
  });

  it("fixture - a password goes into the URL and is required", async () => {
    const server = await startRedisServer({ password: "s3cret/pw" });
    servers.push(server);
    expect(server.url).toBe(`redis://:s3cret%2Fpw@127.0.0.1:${server.port}`);
    expect(await command(server.port, "PING")).toMatch(/^-NOAUTH/);
  });

  it("fixture - a missing redis-server fails with how to install it", async () => {
    await expect(startRedisServer({ binary: "redis-server-that-does-not-exist" })).rejects.toThrow(
      /not found: install it with `apt-get install -y redis-server`/,
    );
  });

  it("fixture - a server that cannot start reports its output", async () => {
    await expect(startRedisServer({ args: ["--no-such-option", "1"] })).rejects.toThrow(
      /exited at start.*no-such-option/s,
    );
  });
});
