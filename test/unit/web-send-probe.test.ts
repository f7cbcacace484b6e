// The web app's uplink probe (src/web/media/send-probe.ts): the offer's camera m-line gets a b=AS, and the watch
// asks only when the camera is held back by an estimate under its layers' caps, at its few set moments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  probeBandwidthKbps,
  SEND_PROBE_DELAYS_MS,
  SEND_PROBE_WINDOW_MS,
  SendProbeWatch,
  sendProbeDue,
  withSendBandwidth,
  type SendProbeState,
  type SendSample,
} from '../../src/web/media/send-probe.ts';

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 3',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=mid:1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'c=IN IP4 0.0.0.0',
  'b=AS:300',
  'a=mid:3',
  '',
].join('\r\n');

test('b=AS goes into the m-line of the mid asked for, after its c= line, and replaces one it had', () => {
  const once = withSendBandwidth(OFFER, '1', 10_000);
  const sections = once.split(/(?=^m=)/m);
  assert.equal(sections.length, 4);
  assert.match(sections[2], /^m=video[^\r\n]*\r\nc=IN IP4 0\.0\.0\.0\r\nb=AS:10000\r\na=rtcp/);
  assert.doesNotMatch(sections[1], /b=AS/, 'audio untouched');
  assert.match(sections[3], /\r\nb=AS:300\r\n/, 'the other video m-line untouched');
  assert.equal(sections[0], OFFER.split(/(?=^m=)/m)[0], 'session part untouched');
  const twice = withSendBandwidth(once, '1', 10_001);
  assert.equal((twice.match(/b=AS:/g) ?? []).length, 2, 'replaced, not added');
  assert.match(twice, /b=AS:10001\r\na=rtcp/);
  assert.ok(twice.endsWith('\r\n') && !/[^\r]\n/.test(twice), 'line endings kept');
  assert.equal(withSendBandwidth(OFFER, '7', 10_000), OFFER, 'no such mid: unchanged');
  assert.equal(withSendBandwidth('', '1', 10_000), '');
  // a bare \n offer keeps its line endings
  const lf = OFFER.replace(/\r\n/g, '\n');
  assert.equal(withSendBandwidth(lf, '1', 5).split('\n').filter((l) => l === 'b=AS:5').length, 1);
  assert.doesNotMatch(withSendBandwidth(lf, '1', 5), /\r/);
  // a mid that only starts like the one asked for is not it
  const tens = OFFER.replace('a=mid:1\r\n', 'a=mid:10\r\n').replace('a=mid:3', 'a=mid:11');
  assert.equal(withSendBandwidth(tens, '1', 5), tens);
  // a b=TIAS goes too (a browser reading both takes the lower)
  const tias = withSendBandwidth(OFFER.replace('a=rtcp:9', 'b=TIAS:300000\r\na=rtcp:9'), '1', 10_000);
  assert.doesNotMatch(tias.split(/(?=^m=)/m)[2], /b=TIAS/);
});

const HELD: SendSample = { estimateBps: 1_000_000, heldBack: true, needBps: 1_850_000 };

/** Runs the watch's decision over samples taken at the given times (ms); returns the times it asked at. */
function askedAt(times: number[], sample: (t: number) => SendSample): number[] {
  let state: SendProbeState = { firstEstimateAt: null, probes: 0 };
  const asked: number[] = [];
  for (const t of times) {
    const r = sendProbeDue(state, sample(t), t);
    state = r.state;
    if (r.due) asked.push(t);
  }
  return asked;
}

const EVERY_SECOND = Array.from({ length: 90 }, (_, i) => 100_000 + i * 1000);

test('a camera held back by a low estimate: a probe at each set moment from the first estimate, then no more', () => {
  const asked = askedAt(EVERY_SECOND, () => HELD);
  assert.deepEqual(
    asked.map((t) => t - 100_000),
    [...SEND_PROBE_DELAYS_MS],
  );
  assert.deepEqual([1, 2, 3].map(probeBandwidthKbps), [10_000, 10_001, 10_002], 'each above the one before and Chrome default 5000');
});

test('no probe when the estimate covers the layers, the camera is not held back, or nothing is known', () => {
  assert.deepEqual(askedAt(EVERY_SECOND, () => ({ ...HELD, estimateBps: 1_850_000 })), []);
  assert.deepEqual(askedAt(EVERY_SECOND, () => ({ ...HELD, heldBack: false })), []);
  assert.deepEqual(askedAt(EVERY_SECOND, () => ({ ...HELD, needBps: 0 })), [], 'no active layer with a cap');
  assert.deepEqual(askedAt(EVERY_SECOND, () => ({ ...HELD, estimateBps: 0 })), [], 'no estimate (Firefox, or not connected)');
});

test('the moments count from the first estimate; a camera that catches up is left alone, one that falls back is asked at the next moment', () => {
  // no estimate for 10 s: the first probe is 2 s after the first estimate
  assert.equal(askedAt(EVERY_SECOND, (t) => (t < 110_000 ? { ...HELD, estimateBps: 0 } : HELD))[0], 112_000);
  // held back only from 20 s on: asked at once, the next ones keep their gaps (4, 9, 20 s), none past the window
  const late = askedAt(EVERY_SECOND, (t) => (t < 120_000 ? { ...HELD, estimateBps: 4_000_000 } : HELD)).map((t) => t - 100_000);
  assert.deepEqual(late, [20_000, 24_000, 33_000]);
  assert.ok(53_000 > SEND_PROBE_WINDOW_MS && SEND_PROBE_DELAYS_MS.at(-1)! <= SEND_PROBE_WINDOW_MS);
  // held back only after the window (congestion later in a meeting): left to Chrome
  assert.deepEqual(askedAt(EVERY_SECOND, (t) => (t < 100_000 + SEND_PROBE_WINDOW_MS + 1000 ? { ...HELD, estimateBps: 4_000_000 } : HELD)), []);
  // caught up after the first probe, held again later: the second probe once its gap has passed
  const again = askedAt(EVERY_SECOND, (t) => (t >= 104_000 && t < 140_000 ? { ...HELD, estimateBps: 4_000_000 } : HELD)).map((t) => t - 100_000);
  assert.deepEqual(again.slice(0, 2), [2000, 40_000]);
});

/**
 * A camera sender as the watch reads it (its encodings' caps, its stats: held back by bandwidth at 1 Mbit/s), each
 * look one second later on the watch's clock; `probe` answers whether the page could apply each probe.
 */
async function watchProbes(applies: (n: number) => boolean, looks: number): Promise<{ asked: { at: number; kbps: number }[]; looks: number }> {
  let now = 0;
  let seen = 0;
  const stats = new Map<string, object>([
    ['out', { type: 'outbound-rtp', qualityLimitationReason: 'bandwidth' }],
    ['t', { type: 'transport', selectedCandidatePairId: 'p' }],
    ['p', { type: 'candidate-pair', availableOutgoingBitrate: 1_000_000 }],
  ]);
  const sender = {
    track: {},
    getParameters: () => ({ encodings: [{ maxBitrate: 150_000 }, { maxBitrate: 500_000 }, { maxBitrate: 1_200_000 }] }),
    getStats: async () => {
      seen++;
      now += 1000;
      return stats;
    },
  } as unknown as RTCRtpSender;
  const asked: { at: number; kbps: number }[] = [];
  const watch = new SendProbeWatch(
    () => sender,
    async (kbps) => {
      asked.push({ at: now, kbps });
      return applies(asked.length);
    },
    { now: () => now, intervalMs: 2 },
  );
  while (seen < looks) await new Promise((r) => setTimeout(r, 2));
  watch.stop();
  return { asked, looks: seen };
}

test('the watch: a probe the page could not apply is asked again at the next look, and only applied ones count', async () => {
  // the first estimate at the first look (t = 1 s): the first moment is 2 s later
  const always = await watchProbes(() => true, 12);
  assert.deepEqual(always.asked, [
    { at: 3000, kbps: 10_000 },
    { at: 7000, kbps: 10_001 },
  ]);
  // the first two asks skipped (the connection waited for the server's offer): asked each second until one applies,
  // with the same b=AS; the next moment keeps its gap from the applied one
  const skipped = await watchProbes((n) => n > 2, 12);
  assert.deepEqual(skipped.asked, [
    { at: 3000, kbps: 10_000 },
    { at: 4000, kbps: 10_000 },
    { at: 5000, kbps: 10_000 },
    { at: 9000, kbps: 10_001 },
  ]);
});
