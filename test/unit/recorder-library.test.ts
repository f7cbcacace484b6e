// The recordings a recorder keeps, over its bus calls with the real recorder part on a MemoryBus and a temp data
// directory holding real small .mkv files: list (all, or one conference's), read in chunks (the bytes equal the
// file; only files recording.json names; full chunks over a real NATS too), delete (not a running one); retention (recordingRetentionDays, with
// fake dates: ended, never ended, running, and a folder without recording.json); and a start refused for lack
// of disk space (a threshold above the real free space of the test disk: statfs is real).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BusCallError } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { MAX_READ_BYTES } from '../../src/protocol/recorder-messages.ts';
import { freeMegabytes } from '../../src/recorder/disk-space.ts';
import { startRecorder } from '../../src/recorder/index.ts';
import { deleteExpiredRecordings } from '../../src/recorder/recording-library.ts';
import { recordingsDir } from '../../src/recorder/recording-store.ts';
import { startNatsServer } from '../helpers/nats.ts';
import { makeRecording, newRecordingId } from '../helpers/recording-files.ts';

const log = createLogger('silent');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDataDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tertulia-library-'));
  dirs.push(d);
  return d;
}
function configFor(dataDir: string, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  return loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { dataDir, logLevel: 'silent', ...overrides } });
}
async function refusal(p: Promise<unknown>): Promise<BusCallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BusCallError, String(e));
    return e;
  }
  assert.fail('the call was not refused');
}

describe('the recorder keeps its recordings', () => {
  test('list, read in chunks, refuse what recording.json does not name, delete', async () => {
    const dataDir = tempDataDir();
    const a = makeRecording(dataDir, { room: 'Maths', startedAt: new Date('2026-01-10T09:00:00Z'), endedAt: new Date('2026-01-10T09:45:00Z') });
    const b = makeRecording(dataDir, { room: 'Maths', startedAt: new Date('2026-01-11T09:00:00Z'), endedAt: new Date('2026-01-11T09:30:00Z') });
    const c = makeRecording(dataDir, { room: 'History', startedAt: new Date('2026-01-12T09:00:00Z') });
    // not a recording: ignored
    mkdirSync(path.join(recordingsDir(dataDir), 'not-a-recording'));
    mkdirSync(path.join(recordingsDir(dataDir), newRecordingId()));
    const bus = new MemoryBus();
    const recorder = startRecorder({ bus, config: configFor(dataDir), log, recorderId: 'r1' });
    try {
      const all = (await callBus(bus, busCalls.recorderList, 'r1', {})).recordings;
      assert.deepEqual(all.map((r) => r.recordingId), [c.recordingId, b.recordingId, a.recordingId], 'the newest first');
      const maths = (await callBus(bus, busCalls.recorderList, 'r1', { conferenceId: 'maths' })).recordings;
      assert.deepEqual(maths.map((r) => r.recordingId), [b.recordingId, a.recordingId]);
      const size = statSync(a.file).size;
      assert.ok(size > MAX_READ_BYTES, `the test file needs several chunks: ${size} bytes`);
      assert.deepEqual(maths[1], {
        recordingId: a.recordingId,
        recorderId: 'r1',
        room: 'Maths',
        conferenceId: 'maths',
        kind: 'composed',
        startedAt: '2026-01-10T09:00:00.000Z',
        endedAt: '2026-01-10T09:45:00.000Z',
        running: false,
        files: [{ name: path.basename(a.file), size, kind: 'composed' }],
      });

      // read it all back in chunks
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < size; ) {
        const r = await callBus(bus, busCalls.recorderRead, 'r1', { recordingId: a.recordingId, file: path.basename(a.file), offset, length: MAX_READ_BYTES });
        assert.equal(r.size, size);
        const bytes = Buffer.from(r.data, 'base64');
        assert.ok(bytes.length > 0);
        chunks.push(bytes);
        offset += bytes.length;
      }
      assert.ok(Buffer.concat(chunks).equals(readFileSync(a.file)), 'the chunks are the file');
      const past = await callBus(bus, busCalls.recorderRead, 'r1', { recordingId: a.recordingId, file: path.basename(a.file), offset: size + 10, length: 10 });
      assert.equal(past.data, '');

      // only files recording.json names, only well-formed ids and names, never more than MAX_READ_BYTES
      const read = (recordingId: string, file: string, length = 10) => callBus(bus, busCalls.recorderRead, 'r1', { recordingId, file, offset: 0, length });
      assert.equal((await refusal(read(a.recordingId, 'recording.json'))).code, 'not-found');
      assert.equal((await refusal(read(a.recordingId, path.basename(b.file)))).code, 'not-found');
      assert.equal((await refusal(read(newRecordingId(), path.basename(a.file)))).code, 'not-found');
      const raw = (payload: unknown) => bus.request('recorder.r1.read', payload as never);
      for (const bad of [
        { recordingId: a.recordingId, file: '../../users.sqlite', offset: 0, length: 10 },
        { recordingId: a.recordingId, file: '.recording.json.tmp', offset: 0, length: 10 },
        { recordingId: '../recordings', file: 'x.mkv', offset: 0, length: 10 },
        { recordingId: a.recordingId, file: path.basename(a.file), offset: 0, length: MAX_READ_BYTES + 1 },
        { recordingId: a.recordingId, file: path.basename(a.file), offset: -1, length: 10 },
      ]) {
        assert.equal((await refusal(raw(bad))).code, 'bad-request', JSON.stringify(bad));
      }

      // delete
      await callBus(bus, busCalls.recorderDelete, 'r1', { recordingId: a.recordingId });
      assert.equal(existsSync(a.dir), false);
      assert.equal((await refusal(callBus(bus, busCalls.recorderDelete, 'r1', { recordingId: a.recordingId }))).code, 'not-found');
      assert.deepEqual((await callBus(bus, busCalls.recorderList, 'r1', { conferenceId: 'maths' })).recordings.map((r) => r.recordingId), [b.recordingId]);
    } finally {
      await recorder.close();
    }
  });

  test('over NATS (a recorder on another machine): full 256 KiB chunks fit in a message and the bytes arrive whole', { timeout: 60_000 }, async () => {
    const dataDir = tempDataDir();
    const a = makeRecording(dataDir, { room: 'Remote', startedAt: new Date('2026-01-10T09:00:00Z'), endedAt: new Date('2026-01-10T09:45:00Z') });
    const nats = await startNatsServer();
    const recorderBus = await NatsBus.connect({ url: nats.url, log, firstConnectTimeoutMs: 10_000 });
    const signalBus = await NatsBus.connect({ url: nats.url, log, firstConnectTimeoutMs: 10_000 });
    const recorder = startRecorder({ bus: recorderBus, config: configFor(dataDir), log, recorderId: 'far' });
    try {
      const name = path.basename(a.file);
      let listed: Awaited<ReturnType<typeof callBus<typeof busCalls.recorderList>>> | undefined;
      for (let i = 0; i < 100 && !listed; i++) {
        // the recorder's subscription reaches the server a moment after it started
        listed = await callBus(signalBus, busCalls.recorderList, 'far', {}, 2000).catch(() => undefined);
      }
      assert.deepEqual(listed?.recordings.map((r) => r.recordingId), [a.recordingId]);
      const chunks: Buffer[] = [];
      for (let offset = 0, size = 1; offset < size; ) {
        const r = await callBus(signalBus, busCalls.recorderRead, 'far', { recordingId: a.recordingId, file: name, offset, length: MAX_READ_BYTES });
        size = r.size;
        chunks.push(Buffer.from(r.data, 'base64'));
        offset += chunks.at(-1)!.length;
      }
      assert.equal(chunks[0]!.length, MAX_READ_BYTES);
      assert.ok(Buffer.concat(chunks).equals(readFileSync(a.file)));
    } finally {
      await recorder.close();
      await recorderBus.close();
      await signalBus.close();
      await nats.stop();
    }
  });

  test('retention: ended (or started, when it never ended) more than N days ago is deleted; running ones and unknown folders stay', () => {
    const dataDir = tempDataDir();
    const now = new Date('2026-03-01T12:00:00Z');
    const day = 24 * 60 * 60 * 1000;
    const ago = (days: number) => new Date(now.getTime() - days * day);
    const oldEnded = makeRecording(dataDir, { startedAt: ago(40), endedAt: ago(31), media: false });
    const recentEnd = makeRecording(dataDir, { startedAt: ago(31), endedAt: ago(29), media: false });
    const neverEnded = makeRecording(dataDir, { startedAt: ago(35), media: false });
    const running = makeRecording(dataDir, { startedAt: ago(45), media: false });
    const stranger = path.join(recordingsDir(dataDir), newRecordingId());
    mkdirSync(stranger);
    writeFileSync(path.join(stranger, 'recording.json'), '{"not": "ours"}');

    assert.deepEqual(deleteExpiredRecordings(dataDir, 0, new Set(), now), [], '0 keeps everything');
    const deleted = deleteExpiredRecordings(dataDir, 30, new Set([running.recordingId]), now);
    assert.deepEqual(deleted.sort(), [oldEnded.recordingId, neverEnded.recordingId].sort());
    assert.equal(existsSync(oldEnded.dir), false);
    assert.equal(existsSync(neverEnded.dir), false);
    assert.ok(existsSync(recentEnd.dir));
    assert.ok(existsSync(running.dir));
    assert.ok(existsSync(stranger));
  });

  test('retention runs when the recorder starts', async () => {
    const dataDir = tempDataDir();
    const old = makeRecording(dataDir, { startedAt: new Date(Date.now() - 10 * 86_400_000), endedAt: new Date(Date.now() - 9 * 86_400_000), media: false });
    const fresh = makeRecording(dataDir, { startedAt: new Date(Date.now() - 3_600_000), endedAt: new Date(), media: false });
    const recorder = startRecorder({ bus: new MemoryBus(), config: configFor(dataDir, { recordingRetentionDays: 7 }), log, recorderId: 'r2' });
    await recorder.close();
    assert.equal(existsSync(old.dir), false);
    assert.ok(existsSync(fresh.dir));
  });

  test('a start is refused when the disk has less free space than recordingMinFreeMb', async () => {
    const dataDir = tempDataDir();
    // above what this disk has free: the refusal runs on the real statfs figure
    const minFree = Math.ceil(freeMegabytes(dataDir)) + 100_000;
    const bus = new MemoryBus();
    const recorder = startRecorder({ bus, config: configFor(dataDir, { recordingMinFreeMb: minFree }), log, recorderId: 'r3' });
    try {
      const e = await refusal(
        callBus(bus, busCalls.recorderStart, 'r3', { recordingId: newRecordingId(), conferenceId: 'c', room: 'C', participants: [] }),
      );
      assert.equal(e.code, 'no-space');
      assert.match(e.message, /not enough disk space on the recorder: \d+ MiB free, recordingMinFreeMb is \d+/);
      assert.deepEqual((await callBus(bus, busCalls.recorderList, 'r3', {})).recordings, [], 'nothing was left behind');
    } finally {
      await recorder.close();
    }
  });
});
