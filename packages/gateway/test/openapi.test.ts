import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { FastifyInstance } from "fastify";
import { describe, expect, it } from "vitest";
import { RawStream, SECRET, startGateway, tokenFor, uuid } from "./support.js";

/** What an operation of the document says, as far as the test reads it. */
interface Operation {
  readonly operationId?: string;
  readonly responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  readonly requestBody?: unknown;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/**
 * The method and path of every route the app serves, read from Fastify's
 * route tree (`printRoutes`), with `:param` written `{param}` as OpenAPI does.
 * HEAD (Fastify answers it for each GET) and OPTIONS (the CORS preflight's
 * catch-all route) are left out: they are not operations of the API.
 */
function servedRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^((?:│ {3}| {4})*)[└├]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? "").length / 4;
    const path = (prefixes[depth - 1] ?? "") + (match[2] ?? "");
    prefixes[depth] = path;
    for (const method of (match[3] ?? "").split(", ").filter((m) => m !== "")) {
      if (method === "HEAD" || method === "OPTIONS") continue;
      routes.push(`${method} ${path.replace(/:(\w+)/g, "{$1}")}`);
    }
  }
  return routes.sort();
}

function describedOperations(document: Document): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** A gateway with every option that adds routes or responses: auth, CORS, limits. */
async function fullGateway() {
  return startGateway({
    auth: { secret: SECRET },
    cors: { origins: ["https://dashboard.example.test"] },
    limits: { publishRate: 100, streamsPerClient: 10, channelsPerStream: 8 },
  });
}

describe("openapi", () => {
  it("openapi - /openapi.json is a valid OpenAPI 3.1 document", async () => {
    const { url } = await fullGateway();
    const response = await fetch(`${url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const document = await response.json();
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("openapi - every route the gateway serves is described, and only those", async () => {
    const { url, gateway } = await fullGateway();
    const document: Document = await (await fetch(`${url}/openapi.json`)).json();
    expect(describedOperations(document)).toEqual(servedRoutes(gateway.app));
    expect(servedRoutes(gateway.app)).toContain("GET /v1/events");
  });

  it("openapi - every described operation answers as described, JSON bodies matching their schemas", async () => {
    const { url } = await fullGateway();
    const document: Document = await (await fetch(`${url}/openapi.json`)).json();
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(document, "openapi.json");
    const token = await tokenFor({ projects: ["*"], agents: ["*"], publish: true });
    const project = uuid();
    const queries: Record<string, string> = { followChannels: `?project=${project}` };

    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const path = template.replace(/\{\w+\}/g, () => project);
        const target = `${url}${path}${queries[operation.operationId ?? ""] ?? ""}`;
        const what = `${method.toUpperCase()} ${template}`;
        if (method === "get" && operation.responses["200"]?.content?.["text/event-stream"]) {
          const stream = new RawStream(target, { authorization: `Bearer ${token}` });
          const response = await stream.started();
          expect(response.statusCode, what).toBe(200);
          expect(response.headers["content-type"], what).toMatch(/^text\/event-stream/);
          stream.request.destroy();
          continue;
        }
        const response = await fetch(target, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(method === "post"
            ? {
                body: JSON.stringify({
                  type: "issue.created",
                  actor_type: "system",
                  project_id: project,
                }),
              }
            : {}),
        });
        const status = String(response.status);
        expect(Object.keys(operation.responses), what).toContain(status);
        expect(status, what).toMatch(/^2/);
        const type = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
        const content = operation.responses[status]?.content ?? {};
        expect(Object.keys(content), what).toContain(type);
        if (type === "application/json") {
          const pointer = [
            "paths",
            template,
            method,
            "responses",
            status,
            "content",
            type,
            "schema",
          ]
            .map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1"))
            .join("/");
          const validate = ajv.compile({ $ref: `openapi.json#/${pointer}` });
          expect(
            validate(await response.json()),
            `${what}: ${ajv.errorsText(validate.errors)}`,
          ).toBe(true);
        }
      }
    }
  });

  it("openapi - refusals match the documented error responses", async () => {
    const { url } = await fullGateway();
    const document: Document = await (await fetch(`${url}/openapi.json`)).json();
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(document, "openapi.json");
    const validateError = ajv.compile({ $ref: "openapi.json#/components/schemas/Error" });
    const operation = document.paths["/v1/events"]?.get;
    const reader = await tokenFor({ projects: [uuid()] });
    for (const [query, status] of [
      [`?project=nope&access_token=${reader}`, "400"],
      [`?project=${uuid()}&access_token=${reader}`, "403"],
      [`?project=${uuid()}`, "401"],
    ] as const) {
      const response = await fetch(`${url}/v1/events${query}`);
      expect(String(response.status)).toBe(status);
      expect(Object.keys(operation?.responses ?? {})).toContain(status);
      expect(validateError(await response.json()), ajv.errorsText(validateError.errors)).toBe(true);
    }
  });

  it("openapi - the description follows the settings: security only with access control, the channel bound, Retry-After only with a rate limit", async () => {
    const off = await startGateway();
    const plain = await (await fetch(`${off.url}/openapi.json`)).json();
    expect(plain.components.securitySchemes).toBeUndefined();
    expect(plain.paths["/v1/projects/{projectId}/events"].post.responses["429"]).toBeUndefined();

    const { url } = await fullGateway();
    const full = await (await fetch(`${url}/openapi.json`)).json();
    expect(Object.keys(full.components.securitySchemes)).toEqual([
      "bearer",
      "accessTokenQuery",
      "accessTokenCookie",
    ]);
    expect(full.paths["/v1/projects/{projectId}/events"].post.security).toEqual([{ bearer: [] }]);
    expect(
      full.paths["/v1/projects/{projectId}/events"].post.responses["429"].headers,
    ).toHaveProperty("Retry-After");
    const [project] = full.paths["/v1/events"].get.parameters;
    expect(project.description).toContain("at most 8 channels");
  });
});
