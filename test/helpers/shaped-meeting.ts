// A whole server in the bridge namespace of a shaped setup (netns.ts) and one headless Chromium per client
// namespace: what the tests on shaped links start. `stop()` closes the browsers, stops the server and removes the
// namespaces.
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.ts';
import { createShapedSetup, type ShapedSetup } from './netns.ts';
import { startServer, type RunningServer } from './server.ts';

export interface ShapedMeeting {
  net: ShapedSetup;
  server: RunningServer;
  /** One per client namespace, in order (client i's link is the one `net.limit(i, …)` shapes). */
  browsers: Browser[];
  stop(): Promise<void>;
}

export async function startShapedMeeting(clients: number, tag = String(process.pid), env: Record<string, string> = {}): Promise<ShapedMeeting> {
  const net = createShapedSetup(clients, tag);
  const browsers: Browser[] = [];
  let server: RunningServer | undefined;
  const stop = async () => {
    for (const b of browsers) await b.close().catch(() => {});
    await server?.stop();
    net.destroy();
  };
  try {
    server = await startServer(
      { TERTULIA_LISTEN_ADDRESS: net.serverAddress, TERTULIA_PUBLIC_ADDRESS: net.serverAddress, ...env },
      { netns: net.bridge, host: net.serverAddress },
    );
    for (const c of net.clients) browsers.push(await launchBrowser(c.chromium));
  } catch (e) {
    await stop();
    throw e;
  }
  return { net, server, browsers, stop };
}
