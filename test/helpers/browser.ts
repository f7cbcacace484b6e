// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fake camera and
// microphone, and the helpers the end-to-end tests share: join a room through the UI, read WebRTC stats.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/**
 * `executablePath`: another Chromium launcher (e.g. a script running it in a network namespace).
 * TERTULIA_TEST_HEADED=1 runs Chromium headed (under `xvfb-run` on a machine without a display): to tell a headless
 * Chromium quirk from a bug a person would see.
 */
export async function launchBrowser(executablePath?: string, extraArgs: string[] = []): Promise<Browser> {
  return await chromium.launch({
    executablePath: executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: process.env.TERTULIA_TEST_HEADED !== '1',
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

export interface Participant {
  name: string;
  context: BrowserContext;
  page: Page;
}

/** Opens a participant's own browser context (own cookies and storage), like a separate person. */
export async function newParticipant(browser: Browser, name: string, locale = 'en-US'): Promise<Participant> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale, viewport: { width: 960, height: 600 } });
  const page = await context.newPage();
  return { name, context, page };
}

/** The pre-join page's names in each language (a participant whose browser speaks Spanish: `newParticipant(..., 'es-ES')`). */
const PREJOIN = {
  en: { name: 'Your name', mute: 'Mute microphone', stop: 'Stop camera', join: 'Join meeting', you: 'you' },
  es: { name: 'Tu nombre', mute: 'Silenciar micrófono', stop: 'Detener cámara', join: 'Unirse a la reunión', you: 'tú' },
};

/**
 * page.goto, up to twice more when Chrome aborted the navigation because the machine's network changed: it does so
 * when an interface comes or goes meanwhile (the network-namespace tests make veth pairs), failing with
 * ERR_NETWORK_CHANGED, turning to its own error page (chrome-error://chromewebdata/), or reloading that page by
 * itself, which page.goto reports as "interrupted by another navigation"; a person would reload.
 */
export async function gotoPage(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (e) {
      if (attempt === 3 || !/ERR_NETWORK_CHANGED|chrome-error:\/\/chromewebdata|interrupted by another navigation/.test(String(e))) throw e;
      // Chrome's own reload is under way: let it finish rather than start a competing one; done if it reached the page
      if (/interrupted by another navigation/.test(String(e))) {
        await page.waitForLoadState('load').catch(() => {});
        if (page.url() === url) return;
      }
      await new Promise((r) => setTimeout(r, 500)); // the network settles
    }
  }
}

/** Goes through the start of a meeting the way a person does: open the room URL, type a name, join. */
export async function joinThroughUi(
  p: Participant,
  baseUrl: string,
  room: string,
  options: { hash?: string; muteMic?: boolean; stopCamera?: boolean; lang?: keyof typeof PREJOIN; reload?: boolean } = {},
): Promise<void> {
  const hash = options.hash ?? '#config.resolution=180';
  const l = PREJOIN[options.lang ?? 'en'];
  // `reload`: the page is in the meeting already and loads again (going to the same URL would not reload it)
  if (options.reload) await p.page.reload();
  else await gotoPage(p.page, `${baseUrl}/${encodeURIComponent(room)}${hash}`);
  await p.page.getByRole('textbox', { name: l.name }).fill(p.name);
  if (options.muteMic) await p.page.getByRole('button', { name: l.mute }).click();
  if (options.stopCamera) await p.page.getByRole('button', { name: l.stop }).click();
  await p.page.getByRole('button', { name: l.join }).click();
  await p.page.getByRole('group', { name: `${p.name} (${l.you})` }).waitFor({ timeout: 20_000 });
}

export interface RemoteStats {
  audioPackets: number;
  /** The audio energy played out so far (getStats' totalAudioEnergy): above 0 when something was heard. */
  audioEnergy: number;
  framesDecoded: number;
}

/** Per remote participant display name: audio packets received and their energy, video frames decoded (getStats). */
export async function remoteStats(page: Page): Promise<Record<string, RemoteStats>> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const result: Record<string, { audioPackets: number; audioEnergy: number; framesDecoded: number }> = {};
    if (!t || !t.pc) return result;
    const byMid = new Map<string, { participantId: string; kind: string }>();
    for (const s of t.sources ?? []) byMid.set(s.mid, s);
    const names = new Map<string, string>();
    for (const p of t.participants ?? []) names.set(p.id, p.displayName);
    const stats: RTCStatsReport = await t.pc.getStats();
    stats.forEach((s: any) => {
      if (s.type !== 'inbound-rtp' || s.mid === undefined) return;
      const src = byMid.get(String(s.mid));
      if (!src) return;
      const name = names.get(src.participantId) ?? src.participantId;
      const entry = (result[name] ??= { audioPackets: 0, audioEnergy: 0, framesDecoded: 0 });
      if (s.kind === 'audio') {
        entry.audioPackets += s.packetsReceived ?? 0;
        entry.audioEnergy += s.totalAudioEnergy ?? 0;
      }
      if (s.kind === 'video') entry.framesDecoded += s.framesDecoded ?? 0;
    });
    return result;
  });
}

/** Polls `check` until it returns true; throws with the last observed value after `timeoutMs`. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

/** Waits until `p` has decoded more than 10 video frames and received more than 20 audio packets from `other`. */
export async function mediaFrom(p: Participant, other: string, timeoutMs = 60_000): Promise<Record<string, RemoteStats>> {
  return await waitUntil(
    `${p.name} to get media from ${other}`,
    () => remoteStats(p.page),
    (s) => (s[other]?.framesDecoded ?? 0) > 10 && (s[other]?.audioPackets ?? 0) > 20,
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The selected (or nominated and succeeded) candidate pair of the meeting's peer connection. */
export interface SelectedPair {
  localProtocol: string;
  localTcpType: string;
  /** host, srflx, prflx or relay. */
  localCandidateType: string;
  /** For a relay candidate: how the browser reaches its TURN server (udp, tcp, tls). */
  localRelayProtocol: string;
  remoteProtocol: string;
  remoteAddress: string;
  /** Bit/s, 0 before the browser has an estimate. */
  availableOutgoingBitrate: number;
}

/** The meeting's selected candidate pair from getStats, null before there is one. */
export async function selectedPair(page: Page): Promise<SelectedPair | null> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: any) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair: any = pairId ? stats.get(pairId) : [...stats.values()].find((s: any) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (!pair) return null;
    const local: any = stats.get(pair.localCandidateId);
    const remote: any = stats.get(pair.remoteCandidateId);
    return {
      localProtocol: local?.protocol ?? '?',
      localTcpType: local?.tcpType ?? '',
      localCandidateType: local?.candidateType ?? '',
      localRelayProtocol: local?.relayProtocol ?? '',
      remoteProtocol: remote?.protocol ?? '?',
      remoteAddress: remote?.address ?? remote?.ip ?? '',
      availableOutgoingBitrate: pair.availableOutgoingBitrate ?? 0,
    };
  });
}
