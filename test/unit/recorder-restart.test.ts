// The recorder part with its real GStreamer child and a stand-in for focus on the bus: a job takes its four
// UDP ports from recorderPortMin..Max (a range of one set: a second job is refused with no-capacity); a child
// that dies is started again on the same ports, re-attached at focus, into a new file listed in recording.json
// (and the room is told); a part that died before holding anything (here: no media ever arrives) is deleted and
// not listed; after MAX_RESTARTS it gives up (recorder.ended) and the ports are free again. A live stream's address
// is checked on the bus too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BusCallError } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { startRecorder } from '../../src/recorder/index.ts';
import { MAX_RESTARTS } from '../../src/recorder/recording.ts';
import { PortRange } from '../../src/recorder/port-range.ts';

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('port sets: four ports each from an even start, given back, skipped a while when another program holds them', () => {
  const range = new PortRange(41001, 41012);
  assert.equal(range.size, 2, '41002-41005 and 41006-41009 (41010-41012 is not a whole set)');
  const a = range.take(0)!;
  const b = range.take(0)!;
  assert.deepEqual([a, b], [{ audio: 41002, video: 41004 }, { audio: 41006, video: 41008 }]);
  assert.equal(range.take(0), null, 'exhausted');
  range.release(a, true, 0);
  assert.equal(range.take(1000), null, 'held elsewhere: skipped for a while');
  assert.deepEqual(range.take(120_000), a);
  range.release(b);
  assert.deepEqual(range.take(120_000), b);
});

test('a dead child restarts on the same ports into a new part; too many deaths end the recording; the range caps the jobs', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-restart-'));
  // one set of four ports, somewhere other tests on this machine are unlikely to be
  const min = 46000 + 4 * Math.floor(Math.random() * 800);
  const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', dataDir, recorderPortMin: min, recorderPortMax: min + 3 } });
  const bus = new MemoryBus();
  const attaches: any[] = [];
  const detaches: any[] = [];
  const key = () => randomBytes(30).toString('base64');
  bus.handle(subjects.focusAttachPlain, (req: any) => {
    attaches.push(req);
    return { address: '127.0.0.1', legs: [{ kind: 'audio', port: 9, rtcpPort: 9 }, { kind: 'video', port: 9, rtcpPort: 9 }], rtcpMux: false, srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: key(), remoteKey: key() }, receives: [], sdp: '' };
  });
  bus.handle(subjects.focusStartPlain, () => ({ ok: true }));
  bus.handle(subjects.focusDetachPlain, (req: any) => {
    detaches.push(req);
    return { ok: true };
  });
  const notices: any[] = [];
  const ended: any[] = [];
  bus.subscribe(recorderSubjects.notice, (n) => notices.push(n));
  bus.subscribe(recorderSubjects.ended, (e) => ended.push(e));
  const recorder = startRecorder({ bus, config, log: createLogger('silent'), recorderId: 'r1' });
  try {
    const start = { recordingId: 'rec-00000000000000a1', conferenceId: 'room', room: 'Room', participants: [] };
    await callBus(bus, busCalls.recorderStart, 'r1', start, 30_000);
    assert.deepEqual(attaches[0].legs.map((l: any) => l.port), [min, min + 2], 'audio and video RTP at the start of the range');
    // the range holds one set: a second job is refused
    await assert.rejects(
      callBus(bus, busCalls.recorderStart, 'r1', { ...start, recordingId: 'rec-00000000000000a2' }, 30_000),
      (e: unknown) => e instanceof BusCallError && e.code === 'no-capacity' && /port/.test(e.message),
    );
    // a live stream's address is checked on the bus as well
    await assert.rejects(
      bus.request(recorderSubjects.start('r1'), { ...start, recordingId: 'rec-00000000000000a3', stream: { rtmpUrl: 'http://example.com/x' } }),
      /rtmpUrl/,
    );

    const rec = recorder.recordings.get(start.recordingId)!;
    const dir = rec.dir;
    for (let restart = 1; restart <= MAX_RESTARTS; restart++) {
      rec.kill();
      await waitFor(() => notices.length === restart);
      assert.deepEqual(notices.at(-1), { recorderId: 'r1', recordingId: start.recordingId, kind: 'segment', segment: restart + 1 });
      assert.equal(attaches.length, restart + 1, 'attached again (fresh SRTP keys)');
      assert.deepEqual(attaches.at(-1).legs.map((l: any) => l.port), [min, min + 2], 'the same ports');
      const meta = JSON.parse(readFileSync(path.join(dir, 'recording.json'), 'utf8'));
      const current = meta.files.at(-1).name;
      assert.equal(current.replace(/\d{8}T\d{6}Z/, 'T'), `Room-T-part${restart + 1}.mkv`, 'the new part is listed');
      // the dead parts got no media: nothing to play, so neither listed nor left on disk
      const emptyLeft = readdirSync(dir).filter((n) => n.endsWith('.mkv') && n !== current && statSync(path.join(dir, n)).size === 0);
      assert.deepEqual(emptyLeft, []);
      assert.ok(meta.files.length < restart + 1, `the empty dead parts were dropped (${meta.files.length} listed of ${restart + 1})`);
      assert.ok(meta.files.slice(0, -1).every((f: any) => f.endedAt && statSync(path.join(dir, f.name)).size > 0) && !meta.endedAt);
    }
    rec.kill();
    await waitFor(() => ended.length === 1);
    assert.equal(ended[0].reason, 'failed');
    assert.match(ended[0].message, /failed \d+ times/);
    assert.equal(recorder.recordings.size, 0);
    const meta = JSON.parse(readFileSync(path.join(dir, 'recording.json'), 'utf8'));
    assert.ok(meta.endedAt && meta.endReason, 'recording.json says it ended, and why');
    // its ports are free again
    let started = false;
    for (let i = 0; i < 50 && !started; i++) {
      try {
        await callBus(bus, busCalls.recorderStart, 'r1', { ...start, recordingId: 'rec-00000000000000a4' }, 30_000);
        started = true;
      } catch (e) {
        if (!(e instanceof BusCallError && e.code === 'no-capacity')) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(started, 'a new job gets the ports back');
    await callBus(bus, busCalls.recorderStop, 'r1', { recordingId: 'rec-00000000000000a4' }, 30_000);
  } finally {
    await recorder.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
