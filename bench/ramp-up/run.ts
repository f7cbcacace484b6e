// `npm run bench -- --ramp-up` (bench/ramp-up/run.ts): how fast a publisher's own bandwidth estimate
// (Chrome's availableOutgoingBitrate) and what it sends grow after joining, on loopback. Each round: a fresh
// server (`tertulia start` as a child), a subscriber (a large tile) joins, then a publisher with a 720p
// simulcast camera; the publisher's estimate and the bitrates of its layers are sampled every 250 ms for
// --seconds. Reports per round the time until the estimate passes the camera's layers (1.85 Mbit/s) and
// 2.5 Mbit/s and until the 1280 layer flows, and the subscriber's jitter-buffer delay. The cause it measures:
// issue 16 ("half of all meetings start blurry for up to a minute").
import { parseArgs } from 'node:util';
import { launchBrowser, newParticipant, joinThroughUi, sleep, selectedPair, type Participant } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';
import { CAMERA_LAYERS_BPS } from '../../src/protocol/media-profile.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    env: { type: 'string', default: '{}' },
    json: { type: 'string' },
  },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const extraEnv = JSON.parse(values.env!) as Record<string, string>;

interface Sample {
  t: number;
  estimate: number;
  /** bit/s sent per rid, from the outbound-rtp byte counters */
  layers: Record<string, number>;
}

async function outbound(p: Participant): Promise<{ estimate: number; bytes: Record<string, number>; limitation: string }> {
  const pair = await selectedPair(p.page);
  const { bytes, limitation } = await p.page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const out: Record<string, number> = {};
    let limitation = '';
    if (pc) {
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          out[`${s.rid ?? s.ssrc}:${s.frameWidth ?? 0}`] = s.bytesSent;
          if (s.qualityLimitationReason && s.qualityLimitationReason !== 'none') limitation = s.qualityLimitationReason;
        }
      });
    }
    return { bytes: out, limitation };
  });
  return { estimate: pair?.availableOutgoingBitrate ?? 0, bytes, limitation };
}

async function jitterDelayMs(p: Participant): Promise<number> {
  return await p.page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    let delay = 0;
    let emitted = 0;
    if (pc) {
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          delay += s.jitterBufferDelay ?? 0;
          emitted += s.jitterBufferEmittedCount ?? 0;
        }
      });
    }
    return emitted > 0 ? (1000 * delay) / emitted : 0;
  });
}

const firstTime = (samples: Sample[], ok: (s: Sample) => boolean) => samples.find(ok)?.t ?? null;
const fmtS = (t: number | null) => (t === null ? `>${seconds}` : t.toFixed(1));

const results: { round: number; toLayers: number | null; to2500k: number | null; to1280: number | null; jitterMs: number; finalKbps: number; limitation: string }[] = [];
for (let round = 1; round <= rounds; round++) {
  const server = await startServer(extraEnv);
  const browser = await launchBrowser();
  try {
    const sub = await newParticipant(browser, 'Sub');
    await joinThroughUi(sub, server.baseUrl, 'ramp', { hash: '#config.resolution=720' });
    const pub = await newParticipant(browser, 'Pub');
    const joined = Date.now();
    await joinThroughUi(pub, server.baseUrl, 'ramp', { hash: '#config.resolution=720' });
    const samples: Sample[] = [];
    let prev: { t: number; bytes: Record<string, number> } | null = null;
    let limitation = '';
    while (Date.now() - joined < seconds * 1000) {
      const t = (Date.now() - joined) / 1000;
      const o = await outbound(pub);
      limitation = o.limitation;
      const layers: Record<string, number> = {};
      if (prev) for (const [k, b] of Object.entries(o.bytes)) layers[k] = ((b - (prev.bytes[k] ?? b)) * 8) / (t - prev.t);
      samples.push({ t, estimate: o.estimate, layers });
      prev = { t, bytes: o.bytes };
      await sleep(250);
    }
    const wide = (s: Sample) => Object.entries(s.layers).some(([k, bps]) => Number(k.split(':')[1]) >= 1280 && bps > 300_000);
    const last = samples.at(-1)!;
    const r = {
      round,
      toLayers: firstTime(samples, (s) => s.estimate > CAMERA_LAYERS_BPS),
      to2500k: firstTime(samples, (s) => s.estimate > 2_500_000),
      to1280: firstTime(samples, wide),
      jitterMs: await jitterDelayMs(sub),
      finalKbps: Math.round(last.estimate / 1000),
      limitation,
    };
    results.push(r);
    console.log(
      `round ${round}: estimate over the camera's layers (${CAMERA_LAYERS_BPS / 1e6} Mbit/s) at ${fmtS(r.toLayers)} s, >2.5 Mbit/s at ${fmtS(r.to2500k)} s, 1280 layer at ${fmtS(r.to1280)} s; ` +
        `after ${seconds} s ${r.finalKbps} kbit/s${limitation ? ` (limited by ${limitation})` : ''}; subscriber jitter buffer ${r.jitterMs.toFixed(0)} ms`,
    );
    if (process.env.RAMP_TRACE) for (const s of samples) console.log(`  ${s.t.toFixed(2)} ${Math.round(s.estimate / 1000)} ${JSON.stringify(Object.fromEntries(Object.entries(s.layers).map(([k, v]) => [k, Math.round(v / 1000)])))}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}
if (values.json) (await import('node:fs')).writeFileSync(values.json, JSON.stringify(results, null, 2));
