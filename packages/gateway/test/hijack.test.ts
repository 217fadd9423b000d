import type { ServerResponse } from "node:http";
import Fastify from "fastify";
import { describe, expect, it, onTestFinished } from "vitest";
import { hijackLongLived } from "../src/hijack.js";
import { waitFor } from "./support.js";

describe("hijack - a long-lived response taken over from Fastify", () => {
  it("hijack - Fastify's completion listener is gone, and a response that errors is destroyed, not left to end the process", async () => {
    // With a logger, Fastify puts its completion listener on every response.
    const app = Fastify({ logger: { level: "silent" } });
    onTestFinished(() => app.close());
    let taken: ServerResponse | undefined;
    let fastifyListeners: { finish: number; error: number } | undefined;
    app.get("/stream", (_request, reply) => {
      const before = {
        finish: reply.raw.listenerCount("finish"),
        error: reply.raw.listenerCount("error"),
      };
      const res = hijackLongLived(reply);
      fastifyListeners = {
        finish: before.finish - res.listenerCount("finish"),
        error: before.error - res.listenerCount("error"),
      };
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": open\n\n");
      taken = res;
    });
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const response = await fetch(`${base}/stream`);
    expect(response.status).toBe(200);
    const res = await waitFor("the response to be taken over", () => taken);
    // Fastify's one listener left both events; ours took its place on `error`.
    expect(fastifyListeners).toEqual({ finish: 1, error: 0 });
    res.end();
    // A write after the end: Node emits `error` on the response on the next tick.
    res.write("late");
    await waitFor("the failed response to be destroyed", () => res.destroyed || undefined);
    await response.body?.cancel();
  });
});
