// Headless Firefox (Debian's firefox-esr) driven by puppeteer-core over WebDriver BiDi, with a fake camera and
// microphone and loopback ICE: for what Chromium does differently (the standard encoded transforms). Playwright's
// Firefox needs its own patched build, hence puppeteer here.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export async function launchFirefox(): Promise<Browser> {
  return await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    protocol: 'webDriverBiDi',
    acceptInsecureCerts: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.peerconnection.ice.loopback': true,
      'media.autoplay.default': 0,
    },
  });
}

/** Opens the room in a new Firefox page and joins as `name` with its camera at `resolution` (the pre-join form; BiDi has no accessibility queries). */
export async function joinInFirefox(browser: Browser, baseUrl: string, room: string, name: string, resolution = 180): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/${encodeURIComponent(room)}#config.resolution=${resolution}`);
  const input = 'form.prejoin-form input[type=text]';
  await page.waitForSelector(input, { timeout: 30_000 });
  await page.type(input, name);
  await page.click('form.prejoin-form button[type=submit]');
  await page.waitForFunction(() => (window as any).__tertulia?.status === 'joined', { timeout: 30_000 });
  return page;
}
