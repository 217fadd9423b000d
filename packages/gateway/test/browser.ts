/**
 * Headless Chromium for browser tests: Debian's chromium package, driven by
 * playwright-core (no npm package downloads a browser; `.ci/run` installs it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

/** Debian's chromium package. */
const CHROMIUM = "/usr/bin/chromium";

/**
 * One browser for the test file: launched before its tests, closed after.
 * Returns the getter of the browser.
 */
export function useBrowser(): () => BrowserContext {
  let launched: { browser: BrowserContext; close: () => Promise<void> } | undefined;
  beforeAll(async () => {
    launched = await launchBrowser();
  });
  afterAll(async () => {
    await launched?.close();
  });
  return () => {
    if (launched === undefined) throw new Error("the browser is not launched yet");
    return launched.browser;
  };
}

/** A browser on a fresh profile folder, and how to close it and remove the folder. */
async function launchBrowser(): Promise<{
  browser: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), "eventbus-chromium-"));
  // A persistent context on a fresh profile folder: Playwright passes it as --user-data-dir.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
