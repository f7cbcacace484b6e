// The setup every end-to-end file shares: one server (`tertulia start`, with extra environment when given)
// and one headless Chromium for the whole file, started before its tests and stopped after them.
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.ts';
import { startServer, type RunningServer } from './server.ts';

export interface ServerAndBrowser {
  readonly server: RunningServer;
  readonly browser: Browser;
}

/**
 * Registers a `before` that starts the server and then the browser, and an `after` that closes both, in the
 * suite where it is called (a `describe` body or the file's top level). Later `before` hooks of that suite
 * run after this one, so they may use both.
 */
export function useServerAndBrowser(env: Record<string, string> = {}): ServerAndBrowser {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await startServer(env);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
  const notYet = (what: string): never => {
    throw new Error(`the ${what} is not started yet: use it in a test or in a before hook registered after useServerAndBrowser()`);
  };
  return {
    get server() {
      return server ?? notYet('server');
    },
    get browser() {
      return browser ?? notYet('browser');
    },
  };
}
