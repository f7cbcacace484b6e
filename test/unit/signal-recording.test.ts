// Recording as signal runs it, over real HTTPS + WebSocket and a fake recorder on the bus: a moderator starts
// and stops it on the recorder that announced room, everyone (late joiners too) is told, the recorder gets
// the names as people come, rename and go; a non-moderator is refused; no free recorder, or one that
// fails to start, is told to the moderator; a recording that fails on the recorder is cleared for everyone.
// Live streams the same way, beside a recording: a bad address is refused with why, the key reaches the
// recorder only; a started stream is "connecting" until the recorder says the streaming server took it (also
// when it said so before the start's reply); interruptions and a new part are passed on to everyone. A moderator switches a composed recording's layout (the recorder is asked, everyone is told, quietly); anyone
// else is refused, and a multitrack recording has no layout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCallError } from '../../src/bus/bus.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

let s: TestSignal;
const calls: { subject: string; payload: any }[] = [];
let failStart: BusCallError | null = null;
/** Runs when the fake recorder is asked to start, before it answers (the recorder's notices may come first). */
let beforeStartReply: ((payload: any) => void) | null = null;
before(async () => {
  s = await startTestSignal();
  for (const kind of ['start', 'stop', 'participants', 'layout'] as const) {
    s.bus.handle(recorderSubjects[kind]('rec1'), (payload: any) => {
      calls.push({ subject: kind, payload });
      if (kind === 'start' && failStart) throw failStart;
      if (kind === 'start') beforeStartReply?.(payload);
      if (kind === 'start' && payload.mode) return { file: 'x', mode: payload.mode, ...(payload.mode === 'composed' ? { layout: 'grid' } : {}) };
      return kind === 'participants' || kind === 'layout' ? { ok: true } : { file: 'room-x.mkv' };
    });
  }
});
after(() => s.stop());

const announce = (free: number) => s.bus.publish(recorderSubjects.announce, { recorderId: 'rec1', free, max: 2, instance: 'i1' });
const callsOf = (kind: string) => calls.filter((c) => c.subject === kind);

describe('recording', () => {
  test('no recorder announced: the moderator is told none is free', async () => {
    const mod = s.client();
    await mod.join('rec-none', 'Mod');
    const e = await mod.expectError({ type: 'start-recording' });
    assert.equal(e.code, 'recording-unavailable');
  });

  test('start, everyone and a late joiner are told, names follow joins, renames and leaves, stop', async () => {
    announce(2);
    const mod = s.client();
    const modJoined = await mod.join('rec-room', 'Mod <b>');
    const ana = s.client();
    const anaJoined = await ana.join('rec-room', 'Ana');
    // a participant may not start it
    assert.equal((await ana.expectError({ type: 'start-recording' })).code, 'not-moderator');
    assert.equal(callsOf('start').length, 0);

    let warmUps = 0;
    const unsubscribeWarm = s.bus.subscribe(subjects.bridgeWarm, () => warmUps++);
    await mod.send({ type: 'start-recording' });
    const told = await ana.next((m) => m.type === 'recording');
    // the recorder joins like a participant: idle media workers on demand start meanwhile
    await waitFor(() => warmUps === 1);
    unsubscribeWarm();
    assert.deepEqual(told, { type: 'recording', active: true, by: 'Mod <b>' });
    await mod.next((m) => m.type === 'recording' && m.active);
    const start = callsOf('start')[0]!.payload;
    assert.match(start.recordingId, /^rec-[0-9a-f]{16}$/);
    assert.equal(start.conferenceId, 'rec-room');
    assert.deepEqual(start.participants, [
      { participantId: modJoined.selfId, name: 'Mod <b>', audioMuted: false, videoMuted: false },
      { participantId: anaJoined.selfId, name: 'Ana', audioMuted: false, videoMuted: false },
    ]);
    // a microphone turned off is told too (a multitrack recording's timeline)
    await ana.send({ type: 'mute', kind: 'audio', muted: true });
    await waitFor(() => callsOf('participants').at(-1)?.payload.participants.find((p: any) => p.participantId === anaJoined.selfId)?.audioMuted === true);
    // the active speaker follows the bridge's dominant speaker (the recorder's speaker layout)
    s.bus.publish(subjects.bridgeDominantSpeaker, { bridgeId: 'b1', conferenceId: 'rec-room', endpointId: anaJoined.selfId });
    await waitFor(() => callsOf('participants').at(-1)?.payload.speaker === anaJoined.selfId);
    // again while recording: refused
    assert.equal((await mod.expectError({ type: 'start-recording' })).code, 'not-allowed');

    const late = s.client();
    const lateJoined = await late.join('rec-room', 'Late');
    assert.deepEqual(await late.next((m) => m.type === 'recording'), { type: 'recording', active: true, by: 'Mod <b>', current: true });
    const names = () => callsOf('participants').at(-1)?.payload.participants.map((p: any) => p.name);
    await waitFor(() => names()?.includes('Late'));
    await late.send({ type: 'rename', displayName: 'Later' });
    await waitFor(() => names()?.includes('Later'));
    await late.send({ type: 'leave' });
    await waitFor(() => names()?.length === 2);
    assert.ok(!names()!.includes('Later'), JSON.stringify(lateJoined));

    await mod.send({ type: 'stop-recording' });
    assert.deepEqual(await ana.next((m) => m.type === 'recording'), { type: 'recording', active: false, by: 'Mod <b>' });
    await waitFor(() => callsOf('stop').length === 1);
    assert.equal(callsOf('stop')[0]!.payload.recordingId, start.recordingId);
    assert.equal((await mod.expectError({ type: 'stop-recording' })).code, 'not-allowed');
  });

  test('a recording that fails on the recorder is cleared for everyone; one that cannot start is told to the moderator', async () => {
    announce(2);
    const mod = s.client();
    await mod.join('rec-fail', 'Mod');
    await mod.send({ type: 'start-recording' });
    await mod.next((m) => m.type === 'recording' && m.active);
    const { recordingId } = callsOf('start').at(-1)!.payload;
    s.bus.publish(recorderSubjects.ended, { recorderId: 'rec1', recordingId, conferenceId: 'rec-fail', reason: 'failed', message: 'killed' });
    assert.deepEqual(await mod.next((m) => m.type === 'recording'), { type: 'recording', active: false, reason: 'failed' });

    failStart = new BusCallError('unavailable', 'GStreamer for Python is missing: install python3-gst-1.0');
    try {
      await mod.send({ type: 'start-recording' });
      const e = await mod.next((m) => m.type === 'error');
      assert.equal(e.code, 'recording-failed');
      assert.match(e.message, /GStreamer for Python is missing/);
      failStart = new BusCallError('no-capacity', 'full');
      await mod.send({ type: 'start-recording' });
      assert.equal((await mod.next((m) => m.type === 'error')).code, 'recording-unavailable');
    } finally {
      failStart = null;
    }
  });

  test("a moderator switches the recording's layout; a participant may not; a multitrack recording has none", async () => {
    announce(2);
    const mod = s.client();
    await mod.join('rec-layout', 'Mod');
    const ana = s.client();
    await ana.join('rec-layout', 'Ana');
    // nothing recorded yet
    assert.equal((await mod.expectError({ type: 'recording-layout', layout: 'speaker' })).code, 'not-allowed');
    await mod.send({ type: 'start-recording', mode: 'composed' });
    assert.deepEqual(await ana.next((m) => m.type === 'recording'), { type: 'recording', active: true, by: 'Mod', mode: 'composed', layout: 'grid' });
    const { recordingId, mode } = callsOf('start').at(-1)!.payload;
    assert.equal(mode, 'composed');

    assert.equal((await ana.expectError({ type: 'recording-layout', layout: 'speaker' })).code, 'not-moderator');
    assert.equal(callsOf('layout').length, 0);
    // a bad layout never reaches the recorder
    assert.equal((await mod.expectError({ type: 'recording-layout', layout: 'spiral' } as any)).code, 'bad-message');
    await mod.send({ type: 'recording-layout', layout: 'speaker' });
    assert.deepEqual(await ana.next((m) => m.type === 'recording'), { type: 'recording', active: true, by: 'Mod', current: true, mode: 'composed', layout: 'speaker' });
    assert.deepEqual(callsOf('layout').map((c) => c.payload), [{ recordingId, layout: 'speaker' }]);
    await mod.send({ type: 'stop-recording' });
    await ana.next((m) => m.type === 'recording' && !m.active);

    await mod.send({ type: 'start-recording', mode: 'multitrack' });
    assert.deepEqual(await ana.next((m) => m.type === 'recording'), { type: 'recording', active: true, by: 'Mod', mode: 'multitrack' });
    const e = await mod.expectError({ type: 'recording-layout', layout: 'grid' });
    assert.equal(e.code, 'not-allowed');
    assert.match(e.message, /multitrack/);
    assert.equal(callsOf('layout').length, 1);
    await mod.send({ type: 'stop-recording' });
  });

  test('the room emptied: its recording stops', async () => {
    announce(2);
    const mod = s.client();
    await mod.join('rec-empty', 'Mod');
    await mod.send({ type: 'start-recording' });
    await mod.next((m) => m.type === 'recording' && m.active);
    const { recordingId } = callsOf('start').at(-1)!.payload;
    await mod.send({ type: 'leave' });
    await waitFor(() => callsOf('stop').some((c) => c.payload.recordingId === recordingId));
  });
});

describe('live stream', () => {
  test('a non-moderator and a bad address are refused; the address goes to the recorder only; a late joiner and everyone hear the state and its changes', async () => {
    announce(2);
    const mod = s.client();
    const ana = s.client();
    const late = s.client();
    let sent = '';
    for (const c of [mod, ana, late]) c.ws.on('message', (d) => (sent += d.toString()));
    await mod.join('live-room', 'Mod');
    await ana.join('live-room', 'Ana');
    const url = 'rtmp://127.0.0.1:1935/live2';
    const key = 'very-secret-key-1234';
    assert.equal((await ana.expectError({ type: 'start-live-stream', url, key })).code, 'not-moderator');
    const before = callsOf('start').length;
    for (const [bad, why] of [
      ['http://example.com/live', /rtmp:\/\/ or rtmps:\/\//],
      ['rtmp://host-only', /application path/],
      ['not a url', /spaces/],
      ['rtmp://' + 'a'.repeat(1100) + '/live', /longer than 1024/],
    ] as const) {
      const e = await mod.expectError({ type: 'start-live-stream', url: bad, key });
      assert.equal(e.code, 'live-stream-bad-url');
      assert.match(e.message, why);
    }
    assert.equal((await mod.expectError({ type: 'start-live-stream', url, key: 'has space' })).code, 'live-stream-bad-url');
    assert.equal(callsOf('start').length, before, 'nothing reached the recorder');

    // a recording and a live stream at once
    await mod.send({ type: 'start-recording' });
    await ana.next((m) => m.type === 'recording' && m.active);
    await mod.send({ type: 'start-live-stream', url: url + '/', key });
    // started (the recorder took it), not live yet: connecting until the streaming server takes data
    const told = await ana.next((m) => m.type === 'live-stream');
    assert.deepEqual(told, { type: 'live-stream', active: true, by: 'Mod', connecting: true, interrupted: false });
    const start = callsOf('start').at(-1)!.payload;
    assert.deepEqual(start.stream, { rtmpUrl: `${url}/${key}` });
    assert.equal((await mod.expectError({ type: 'start-live-stream', url, key })).code, 'not-allowed');

    // an unreachable server: the first connection fails, still connecting (retried)
    const notice = (kind: string) => s.bus.publish(recorderSubjects.notice, { recorderId: 'rec1', recordingId: start.recordingId, kind });
    notice('stream-interrupted');
    assert.deepEqual(await ana.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', connecting: true, interrupted: true, change: 'interrupted' });
    await late.join('live-room', 'Late');
    assert.deepEqual(await late.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', connecting: true, interrupted: true, current: true });
    // it connects: live
    notice('stream-live');
    assert.deepEqual(await late.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', interrupted: false, change: 'connected' });
    notice('stream-interrupted');
    assert.deepEqual(await late.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', interrupted: true, change: 'interrupted' });
    const later = s.client();
    await later.join('live-room', 'Later');
    assert.deepEqual(await later.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', interrupted: true, current: true });
    notice('stream-resumed');
    assert.deepEqual(await late.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', interrupted: false, change: 'resumed' });
    const recording = callsOf('start').at(-2)!.payload;
    s.bus.publish(recorderSubjects.notice, { recorderId: 'rec1', recordingId: recording.recordingId, kind: 'segment', segment: 2 });
    assert.deepEqual(await late.next((m) => m.type === 'recording' && !m.current), { type: 'recording', active: true, by: 'Mod', continued: true });

    await mod.send({ type: 'stop-live-stream' });
    assert.deepEqual(await ana.next((m) => m.type === 'live-stream' && !m.active), { type: 'live-stream', active: false, by: 'Mod' });
    await waitFor(() => callsOf('stop').some((c) => c.payload.recordingId === start.recordingId));
    assert.ok(!callsOf('stop').some((c) => c.payload.recordingId === recording.recordingId), 'the recording runs on');
    assert.ok(sent.includes('live-stream') && !sent.includes(key), 'nobody is sent the key');
    assert.ok(!s.logs().includes(key), 'signal never logs the key (even at trace level, without redaction)');
  });

  test('a stream the streaming server took before the start was answered is live at once', async () => {
    announce(2);
    const mod = s.client();
    await mod.join('live-fast', 'Mod');
    beforeStartReply = (payload) => s.bus.publish(recorderSubjects.notice, { recorderId: 'rec1', recordingId: payload.recordingId, kind: 'stream-live' });
    try {
      await mod.send({ type: 'start-live-stream', url: 'rtmp://127.0.0.1/live', key: 'k' });
      assert.deepEqual(await mod.next((m) => m.type === 'live-stream'), { type: 'live-stream', active: true, by: 'Mod', interrupted: false });
    } finally {
      beforeStartReply = null;
    }
    await mod.send({ type: 'stop-live-stream' });
    await mod.next((m) => m.type === 'live-stream' && !m.active);
  });
});

async function waitFor(check: () => boolean | undefined, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
