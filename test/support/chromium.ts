import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A headless Debian Chromium with its own profile folder; `close()` removes the folder. Never skipped: without Chromium it says how to get it. */
export async function launchChromium(opts: { viewport: { width: number; height: number }; phone?: boolean }): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the browser tests need it. Install it with "apt-get update && apt-get install -y chromium" (.ci/run does).`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: opts.viewport,
    ...(opts.phone ? { isMobile: true, hasTouch: true } : {}),
    locale: 'fr-FR',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
