import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DOCS = [
  "README.md",
  "packages/gateway/README.md",
  ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`),
];

describe("docs", () => {
  it("docs - every relative link names a file that exists; none points at a DESIGN.md", () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const text = readFileSync(join(ROOT, doc), "utf8");
      if (/DESIGN\.md/.test(text)) broken.push(`${doc}: mentions DESIGN.md`);
      for (const [, target = ""] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
        const path = join(ROOT, dirname(doc), target.split("#")[0] ?? "");
        if (!existsSync(path)) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
