// The setup every end-to-end file shares: one server (`tertulia start`, with extra environment when given)
// and one headless Chromium for the whole file, started before its tests and stopped after them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/**
 * A second Chromium whose fake microphone "talks": a tone 0.7 s of every second, made with ffmpeg (speech-like:
 * loud blocks above a silent floor; Chromium's default fake microphone only beeps 20 ms twice a second, which
 * never counts as speech). Registers its own before/after in the calling suite.
 */
export function useTalkingBrowser(extraArgs: readonly string[] = []): { readonly browser: Browser } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-talk-'));
  let browser: Browser | undefined;
  before(async () => {
    const wav = path.join(dir, 'talk.wav');
    execFileSync('ffmpeg', [
      '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=320:sample_rate=48000:duration=20',
      '-af', "volume='if(lt(mod(t,1),0.7),1,0)':eval=frame", '-ac', '1', '-y', wav,
    ]);
    browser = await launchBrowser(undefined, [`--use-file-for-fake-audio-capture=${wav}`, ...extraArgs]);
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get browser() {
      if (!browser) throw new Error('the talking browser is not started yet');
      return browser;
    },
  };
}
