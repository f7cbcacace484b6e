// `npm run bench -- e2ee [--seconds 20 --resolution 360 --rounds 2]`: what end-to-end encryption costs the browsers of a meeting,
// on and off. A real server and three headless Chromium processes (one per participant, so that each process's CPU
// is its participant's), each sending its fake camera at --resolution lines and its microphone. For each state a new
// meeting of three is made; once everyone decodes everyone, the three Chromium process trees are sampled from /proc
// over --seconds, and each page's stats give the frames per second it decodes and the video bitrate it receives.
// States:
// - "off, before": E2EE off as it was before (issue 20 / 16): every connection made with Chrome's
//   `encodedInsertableStreams` and every sender and receiver piped (createEncodedStreams) through a worker that passes
//   the frames on, replayed by an init script around the app's RTCPeerConnection;
// - "off, now": E2EE off as it is: nothing attached, plain connections;
// - "on": E2EE on (turned on by the moderator in the running meeting): every frame encrypted and decrypted.
// --rounds N measures the three states N times, every other round in reverse order (the machine's load drifts).
// Headless Chromium here encodes and decodes VP8 in software; the absolute figures are this machine's.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, sleep, waitUntil, type Participant } from '../../test/helpers/browser.ts';
import { startServer, type RunningServer } from '../../test/helpers/server.ts';
import { treeCpuSeconds } from '../process-cpu.ts';
import { table } from '../stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, resolution: { type: 'string', default: '360' }, rounds: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
const resolution = Number(values.resolution);
const rounds = Number(values.rounds);
if (!(seconds >= 3) || ![180, 360, 720].includes(resolution) || !Number.isInteger(rounds) || rounds < 1 || rounds > 10) {
  console.error('usage: npm run bench -- e2ee [--seconds N (>= 3)] [--resolution 180|360|720] [--rounds 1-10]');
  process.exit(2);
}

const NAMES = ['Ana', 'Ben', 'Cruz'];

/** The old path's worker, served from the app's origin (its Content-Security-Policy allows no blob: worker). */
const PASS_THROUGH_PATH = '/bench-e2ee-pass-through.js';
const PASS_THROUGH_WORKER = `onmessage = (e) => {
  const { readable, writable, side } = e.data;
  readable.pipeThrough(new TransformStream({ async transform(frame, c) {
    if (side === 'receive' && frame.data.byteLength > 0) new Uint8Array(frame.data)[frame.data.byteLength - 1];
    c.enqueue(frame);
  } })).pipeTo(writable).catch(() => {});
};`;

/**
 * The old "E2EE off" path, put around the app's RTCPeerConnection before the page loads: connections made with
 * `encodedInsertableStreams`, and after each offer every sender and receiver piped through a pass-through worker,
 * as e2ee-session.ts and e2ee-worker.ts did (the worker read each received frame's last byte for a trailer).
 */
function oldPassThrough(): void {
  const worker = new Worker(PASS_THROUGH_PATH);
  const Native = window.RTCPeerConnection;
  class PipedConnection extends Native {
    constructor(config?: RTCConfiguration) {
      super({ ...config, encodedInsertableStreams: true } as RTCConfiguration);
      const piped = new WeakSet<object>();
      const pipe = (end: RTCRtpSender | RTCRtpReceiver, side: string) => {
        if (piped.has(end)) return;
        piped.add(end);
        const s = (end as unknown as { createEncodedStreams(): { readable: ReadableStream; writable: WritableStream } }).createEncodedStreams();
        worker.postMessage({ readable: s.readable, writable: s.writable, side }, [s.readable, s.writable] as unknown as Transferable[]);
      };
      const apply = this.setRemoteDescription.bind(this);
      this.setRemoteDescription = async (d: RTCSessionDescriptionInit) => {
        await apply(d);
        for (const t of this.getTransceivers()) {
          if (t.mid === null) continue;
          if (t.mid === '0' || t.mid === '1' || t.mid === '2') pipe(t.sender, 'send');
          else pipe(t.receiver, 'receive');
        }
      };
    }
  }
  window.RTCPeerConnection = PipedConnection;
}

interface Received {
  framesDecoded: number;
  bytes: number;
  streams: number;
}

/** Video frames decoded and video bytes received by `page` from the bridge, over all its remote streams. */
async function received(page: Page): Promise<Received> {
  return await page.evaluate(async () => {
    const pc = (window as any).__tertulia?.pc as RTCPeerConnection | null;
    const r = { framesDecoded: 0, bytes: 0, streams: 0 };
    if (!pc) return r;
    (await pc.getStats()).forEach((s: any) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video' || !s.framesDecoded) return;
      r.framesDecoded += s.framesDecoded;
      r.bytes += s.bytesReceived ?? 0;
      r.streams++;
    });
    return r;
  });
}

interface E2eeDiagnostics {
  enabled: boolean;
  attached: number;
  stats: { decrypted: number };
}
const e2eeOf = (page: Page) => page.evaluate(() => ((window as any).__tertulia?.e2ee ?? null) as E2eeDiagnostics | null);

type State = 'off, before' | 'off, now' | 'on';

/** A new meeting of three in state `state`, measured once everyone decodes everyone. */
async function measure(server: RunningServer, state: State, round: number, meeting: number): Promise<string[]> {
  const markers = NAMES.map((n) => `--user-agent=tertulia-bench-e2ee-${process.pid}-${meeting}-${n}`);
  const browsers = await Promise.all(markers.map((m) => launchBrowser(undefined, [m])));
  try {
    const room = `E2ee-${meeting}`;
    const people: Participant[] = [];
    for (const [i, name] of NAMES.entries()) {
      const p = await newParticipant(browsers[i]!, name);
      if (state === 'off, before') {
        await p.context.route(`${server.baseUrl}${PASS_THROUGH_PATH}`, (route) => route.fulfill({ contentType: 'text/javascript', body: PASS_THROUGH_WORKER }));
        await p.page.addInitScript(`const PASS_THROUGH_PATH = ${JSON.stringify(PASS_THROUGH_PATH)}; (${oldPassThrough.toString()})();`);
      }
      await joinThroughUi(p, server.baseUrl, room, { hash: `#config.resolution=${resolution}` });
      people.push(p);
    }
    if (state === 'on') {
      const ana = people[0]!;
      await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
      await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption' }).click();
      for (const p of people) await waitUntil(`${p.name} to decrypt`, () => e2eeOf(p.page), (d) => !!d?.enabled && d.stats.decrypted > 100, 90_000);
    }
    for (const p of people) await waitUntil(`${p.name} to decode both others`, () => received(p.page), (r) => r.streams >= 2 && r.framesDecoded > 60, 90_000);
    await sleep(5000); // bandwidth estimation and layers settle
    const attached = (await Promise.all(people.map((p) => e2eeOf(p.page)))).reduce((n, d) => n + (d?.attached ?? 0), 0);
    const cpu0 = markers.map(treeCpuSeconds);
    const rx0 = await Promise.all(people.map((p) => received(p.page)));
    await sleep(seconds * 1000);
    const cpu = markers.map((m, i) => (treeCpuSeconds(m) - cpu0[i]!) / seconds);
    const rx = await Promise.all(people.map((p) => received(p.page)));
    const fps = rx.map((r, i) => (r.framesDecoded - rx0[i]!.framesDecoded) / seconds / Math.max(1, r.streams));
    const kbps = rx.map((r, i) => ((r.bytes - rx0[i]!.bytes) * 8) / 1000 / seconds / Math.max(1, r.streams));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // the load of the shared machine moves the frame rate, and the CPU with it: per frame compares better
    const msPerFrame = (mean(cpu) * 1000) / Math.max(0.1, mean(fps) * (NAMES.length - 1));
    const row = [
      String(round),
      state,
      `${(mean(cpu) * 100).toFixed(0)} %`,
      cpu.map((c) => `${(c * 100).toFixed(0)}`).join(' / '),
      mean(fps).toFixed(1),
      mean(kbps).toFixed(0),
      msPerFrame.toFixed(1),
      String(attached),
    ];
    console.log(`round ${round}, ${state}: ${row.slice(2).join(', ')}`);
    return row;
  } finally {
    for (const b of browsers) await b.close();
  }
}

const server = await startServer();
const rows: string[][] = [];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = load();
try {
  let meeting = 0;
  const states: State[] = ['off, before', 'off, now', 'on'];
  for (let round = 1; round <= rounds; round++) {
    for (const state of round % 2 === 1 ? states : [...states].reverse()) rows.push(await measure(server, state, round, meeting++));
  }
} finally {
  await server.stop();
}
console.log(`\nA meeting of three headless Chromium participants, camera ${resolution} lines, ${seconds} s per state; load average ${loadBefore} before, ${load()} after:\n`);
console.log(
  table(['round', 'E2EE', 'CPU per participant (of one core)', 'Ana / Ben / Cruz %', 'frames/s decoded per stream', 'video kbit/s received per stream', 'CPU ms per decoded frame', 'transforms the app attached'], rows),
);
