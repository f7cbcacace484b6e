// The connection-quality levels of the meeting page (web/media/quality.ts) from a connection's statistics: each
// sender's loss on the way to us, and ours: the worse of what the server reports losing of our media and the least
// loss of what reaches us (a downlink that loses shows; one sender's lossy uplink is not ours); on the direct
// connection of a room of two, everything it receives is the other participant's.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { QualityMonitor, SELF_KEY } from '../../src/web/media/quality.ts';

/** A connection whose getStats gives, per mid, packets received and lost so far (and the server's fractionLost). */
function fakeConnection(stats: () => { inbound: Record<string, [number, number]>; fractionLost: number }) {
  return {
    connectionState: 'connected',
    getStats: async () => {
      const s = stats();
      const report = new Map<string, Record<string, unknown>>();
      for (const [mid, [received, lost]] of Object.entries(s.inbound)) report.set(`in${mid}`, { type: 'inbound-rtp', mid, packetsReceived: received, packetsLost: lost });
      report.set('rin', { type: 'remote-inbound-rtp', fractionLost: s.fractionLost });
      return report;
    },
  } as unknown as RTCPeerConnection;
}

async function twoSamples(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    mock.timers.tick(2000);
    for (let j = 0; j < 5; j++) await Promise.resolve();
  }
}

test("our own level: a downlink that loses from everyone is ours; one sender's loss is only theirs", async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const byMid: Record<string, string> = { '3': 'ana', '4': 'ben' };
    const participantOf = (mid: string) => byMid[mid];
    // every sender's media loses 10 % on the way to us: our downlink
    let n = 0;
    const lossy = new QualityMonitor(() => ({ pc: fakeConnection(() => (n++, { inbound: { '3': [900 * n, 100 * n], '4': [900 * n, 100 * n] }, fractionLost: 0 })), participantOf }));
    lossy.start();
    await twoSamples();
    lossy.stop();
    assert.equal(lossy.state.levels.get(SELF_KEY), 'poor');
    // only Ana's media loses (her uplink): she is poor, we are not
    let m = 0;
    const one = new QualityMonitor(() => ({ pc: fakeConnection(() => (m++, { inbound: { '3': [900 * m, 100 * m], '4': [1000 * m, 0] }, fractionLost: 0 })), participantOf }));
    one.start();
    await twoSamples();
    one.stop();
    assert.equal(one.state.levels.get('ana'), 'poor');
    assert.equal(one.state.levels.get('ben'), 'good');
    assert.equal(one.state.levels.get(SELF_KEY), 'good');
  } finally {
    mock.timers.reset();
  }
});

test('the direct connection of a room of two: its audio and video are the other participant\'s', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    let n = 0;
    // mids 0 and 1 on the direct connection: Ana's microphone and camera, 20 % lost
    const direct = new QualityMonitor(() => ({ pc: fakeConnection(() => (n++, { inbound: { '0': [800 * n, 200 * n], '1': [800 * n, 200 * n] }, fractionLost: 0 })), participantOf: () => 'ana' }));
    direct.start();
    await twoSamples();
    direct.stop();
    assert.equal(direct.state.levels.get('ana'), 'poor');
    assert.equal(direct.state.levels.size, 2, 'Ana and ourselves');
  } finally {
    mock.timers.reset();
  }
});

test('a switch to another connection starts its counters afresh', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    let n = 0;
    // the bridge's connection: 5000 packets received from Ana so far, none lost
    const bridge = fakeConnection(() => ({ inbound: { '3': [5000 + 100 * n++, 0] }, fractionLost: 0 }));
    // the direct one: a few packets, none lost (its totals far below the bridge's)
    let m = 0;
    const direct = fakeConnection(() => ({ inbound: { '0': [50 * ++m, 0] }, fractionLost: 0 }));
    let current = { pc: bridge, participantOf: (mid: string) => (mid === '3' ? 'ana' : undefined) };
    const q = new QualityMonitor(() => current);
    q.start();
    await twoSamples();
    assert.equal(q.state.levels.get('ana'), 'good');
    current = { pc: direct, participantOf: () => 'ana' };
    await twoSamples();
    q.stop();
    assert.equal(q.state.levels.get('ana'), 'good', 'read against its own counters, not the bridge connection\'s totals');
  } finally {
    mock.timers.reset();
  }
});
