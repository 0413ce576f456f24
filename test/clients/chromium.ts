/**
 * Headless Chromium from Debian's `chromium` package, driven by playwright-core (which downloads
 * nothing). .ci/run installs the package when it is missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser, BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// What works headless in these containers: no sandbox (root), no GPU, nothing phoned home.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface ChromiumSession {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** A fresh profile in a temp dir, so runs never share cookies, storage or cache. */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<ChromiumSession> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (Debian), or set CHROMIUM_PATH`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport,
    acceptDownloads: false,
    serviceWorkers: 'block',
  });
  return {
    browser: context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };
