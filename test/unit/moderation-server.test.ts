// Moderation over real HTTPS + WebSocket (open rooms): who is moderator, every moderator action, and every
// action forged by a non-moderator refused by the server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { dropConnection, roomWithModerator, startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

let roomCounter = 0;
/** A fresh room with a moderator (the first to join) and `n` more participants. */
const room = (n: number) => roomWithModerator(s, `mod-room-${++roomCounter}`, n);

describe('roles', () => {
  test('the first participant of an open room is moderator; the others see the role', async () => {
    const r = await room(1);
    const state = await r.mod.nextOfType('room-state');
    assert.deepEqual(state, { type: 'room-state', locked: false, lobby: false, selfUnmuteAllowed: true });
    const c = s.client();
    const j = await c.join(r.name, 'Late');
    assert.equal(j.participants.find((p: any) => p.id === r.modId).role, 'moderator');
    assert.equal(j.participants.find((p: any) => p.id === r.people[0]!.id).role, 'participant');
  });

  test('a role sent by the client is ignored', async () => {
    const r = await room(0);
    const c = s.client();
    const j = await c.join(r.name, 'Sneaky', { role: 'moderator' });
    assert.equal(j.role, 'participant');
  });

  test('a moderator grants moderator rights; the new moderator can act', async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    await r.mod.send({ type: 'grant-moderator', target: p0.id });
    const up = await p1.c.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id);
    assert.equal(up.participant.role, 'moderator');
    await p0.c.next((m) => m.type === 'room-state');
    await p0.c.send({ type: 'mute-participant', target: p1.id });
    assert.equal((await p1.c.nextOfType('force-muted')).by, 'P0');
  });

  test('when the only moderator leaves an open room, the longest-present participant becomes moderator', async () => {
    const r = await room(2);
    r.mod.close();
    const up = await r.people[1]!.c.next((m) => m.type === 'participant-updated' && m.participant.id === r.people[0]!.id);
    assert.equal(up.participant.role, 'moderator');
  });
});

describe('a non-moderator is refused every moderator action', () => {
  const forged = (target: string) => [
    { type: 'mute-participant', target },
    { type: 'mute-everyone' },
    { type: 'mute-everyone', kind: 'video' },
    { type: 'ask-stop-camera', target },
    { type: 'remove-participant', target },
    { type: 'grant-moderator', target },
    { type: 'end-meeting' },
    { type: 'lock-room', password: 'x' },
    { type: 'unlock-room' },
    { type: 'set-lobby', enabled: true },
    { type: 'set-self-unmute', allowed: false },
    { type: 'lobby-admit', id: 'abc' },
    { type: 'lobby-deny', id: 'abc' },
    { type: 'start-recording' },
    { type: 'stop-recording' },
    { type: 'start-live-stream', url: 'rtmp://127.0.0.1/live', key: 'k' },
    { type: 'stop-live-stream' },
  ];

  test('each forged request gets not-moderator and changes nothing', async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    const callsBefore = s.focusCalls.length;
    for (const msg of forged(r.modId)) {
      const e = await p0.c.expectError(msg);
      assert.equal(e.code, 'not-moderator', msg.type);
    }
    for (const msg of forged(p1.id)) assert.equal((await p0.c.expectError(msg)).code, 'not-moderator', msg.type);
    // nobody was muted, removed, ended or promoted, and the room is still open
    assert.ok(await r.mod.nothingLike((m) => ['force-muted', 'removed', 'meeting-ended', 'camera-stop-requested'].includes(m.type)));
    assert.ok(await p1.c.nothingLike((m) => ['force-muted', 'removed', 'meeting-ended', 'camera-stop-requested'].includes(m.type)));
    assert.ok(!s.focusCalls.slice(callsBefore).some((c) => c.subject === subjects.focusMute || c.subject === subjects.focusLeave));
    const late = s.client();
    const j = await late.join(r.name, 'Late');
    assert.equal(j.participants.length, 3);
    assert.ok(j.participants.every((p: any) => p.role === (p.id === r.modId ? 'moderator' : 'participant')));
  });

  test('moderator actions before joining get not-joined', async () => {
    const c = s.client();
    assert.equal((await c.expectError({ type: 'mute-everyone' })).code, 'not-joined');
    assert.equal((await c.expectError({ type: 'end-meeting' })).code, 'not-joined');
  });

  test('malformed moderator messages are bad-message', async () => {
    const r = await room(0);
    assert.equal((await r.mod.expectError({ type: 'mute-participant' })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'lock-room', password: '' })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'lock-room', password: 'x'.repeat(65) })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'set-lobby', enabled: 'yes' })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'remove-participant', target: 'nobody' })).code, 'no-such-participant');
  });
});

describe('moderator actions', () => {
  test('mute one participant: they are told, everyone sees it, focus drops their audio', async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    await r.mod.send({ type: 'mute-participant', target: p0.id });
    assert.deepEqual(await p0.c.nextOfType('force-muted'), { type: 'force-muted', by: 'Mod' });
    const up = await p1.c.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id);
    assert.equal(up.participant.audioMuted, true);
    await new Promise((r) => setImmediate(r));
    assert.ok(s.focusCalls.some((c) => c.subject === subjects.focusMute && c.payload.participantId === p0.id && c.payload.kind === 'audio' && c.payload.muted === true));
    // they may unmute themselves (not disabled)
    await p0.c.send({ type: 'mute', kind: 'audio', muted: false });
    const again = await p1.c.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id);
    assert.equal(again.participant.audioMuted, false);
  });

  test('mute everyone mutes all but the moderator; with self-unmute off, unmuting is refused', async () => {
    const r = await room(2);
    await r.mod.send({ type: 'set-self-unmute', allowed: false });
    for (const p of r.people) assert.equal((await p.c.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === false)).selfUnmuteAllowed, false);
    await r.mod.send({ type: 'mute-everyone' });
    for (const p of r.people) await p.c.nextOfType('force-muted');
    assert.ok(await r.mod.nothingLike((m) => m.type === 'force-muted'));
    const p0 = r.people[0]!;
    const e = await p0.c.expectError({ type: 'mute', kind: 'audio', muted: false });
    assert.equal(e.code, 'not-allowed');
    assert.ok(await r.mod.nothingLike((m) => m.type === 'participant-updated' && m.participant.id === p0.id && !m.participant.audioMuted));
    // the moderator allows it again
    await r.mod.send({ type: 'set-self-unmute', allowed: true });
    await p0.c.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === true);
    await p0.c.send({ type: 'mute', kind: 'audio', muted: false });
    const up = await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id && !m.participant.audioMuted);
    assert.equal(up.participant.audioMuted, false);
  });

  test("stop everyone's video: every other camera off; on again by themselves unless self-unmute is off", async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    await r.mod.send({ type: 'mute-everyone', kind: 'video' });
    for (const p of r.people) assert.deepEqual(await p.c.nextOfType('force-muted'), { type: 'force-muted', by: 'Mod', kind: 'video' });
    assert.ok(await r.mod.nothingLike((m) => m.type === 'force-muted'));
    for (const p of r.people) {
      const up = await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p.id);
      assert.deepEqual([up.participant.videoMuted, up.participant.audioMuted], [true, false]);
    }
    await new Promise((r) => setImmediate(r));
    for (const p of r.people) {
      assert.ok(s.focusCalls.some((c) => c.subject === subjects.focusMute && c.payload.participantId === p.id && c.payload.kind === 'video' && c.payload.muted === true));
    }
    // self-unmute allowed: P0 turns the camera on again
    await p0.c.send({ type: 'mute', kind: 'video', muted: false });
    assert.equal((await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id)).participant.videoMuted, false);
    // self-unmute off: P1's stopped camera stays off; a camera its owner stopped may still go on
    await r.mod.send({ type: 'set-self-unmute', allowed: false });
    await p1.c.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === false);
    const e = await p1.c.expectError({ type: 'mute', kind: 'video', muted: false });
    assert.deepEqual([e.code, e.message], ['not-allowed', 'a moderator stopped your camera and has turned off unmuting for participants']);
    assert.ok(await r.mod.nothingLike((m) => m.type === 'participant-updated' && m.participant.id === p1.id && !m.participant.videoMuted));
    await p0.c.send({ type: 'mute', kind: 'video', muted: true });
    await p0.c.send({ type: 'mute', kind: 'video', muted: false });
    await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id && m.participant.videoMuted);
    assert.equal((await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id)).participant.videoMuted, false);
    // the rejoin trick (or a new connection) does not turn it on either
    const late = s.client();
    const lateJoin = await late.join(r.name, 'Late', { videoMuted: false });
    assert.deepEqual(await late.next((m) => m.type === 'force-muted' && m.kind === 'video'), { type: 'force-muted', by: 'Mod', kind: 'video', atJoin: true });
    const seen = await r.mod.next((m) => m.type === 'participant-joined' && m.participant.id === lateJoin.selfId);
    assert.equal(seen.participant.videoMuted, true);
    assert.equal((await late.expectError({ type: 'mute', kind: 'video', muted: false })).code, 'not-allowed');
    late.close();
    // allowed again: P1 too, and newcomers keep their cameras
    await r.mod.send({ type: 'set-self-unmute', allowed: true });
    await p1.c.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === true);
    await p1.c.send({ type: 'mute', kind: 'video', muted: false });
    assert.equal((await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p1.id)).participant.videoMuted, false);
    await r.mod.send({ type: 'set-self-unmute', allowed: false });
    const next = s.client();
    const nextJoin = await next.join(r.name, 'Next', { videoMuted: false });
    assert.equal((await r.mod.next((m) => m.type === 'participant-joined' && m.participant.id === nextJoin.selfId)).participant.videoMuted, false);
    assert.ok(await next.nothingLike((m) => m.type === 'force-muted' && m.kind === 'video'));
    next.close();
  });

  test("a bad kind for mute-everyone is a bad-message", async () => {
    const r = await room(0);
    assert.equal((await r.mod.expectError({ type: 'mute-everyone', kind: 'screen' })).code, 'bad-message');
  });

  test('with self-unmute off, leaving and joining again (or a new connection) does not unmute', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'set-self-unmute', allowed: false });
    const p0 = r.people[0]!;
    await p0.c.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === false);
    await r.mod.send({ type: 'mute-participant', target: p0.id });
    await p0.c.nextOfType('force-muted');
    // the rejoin trick: leave, then join again with the microphone on
    await p0.c.send({ type: 'leave' });
    await r.mod.next((m) => m.type === 'participant-left' && m.id === p0.id);
    const again = await p0.c.join(r.name, 'P0', { audioMuted: false });
    assert.equal((await p0.c.nextOfType('force-muted')).by, 'Mod');
    const seen = await r.mod.next((m) => m.type === 'participant-joined' && m.participant.id === again.selfId);
    assert.equal(seen.participant.audioMuted, true);
    await new Promise((r) => setImmediate(r));
    assert.ok(s.focusCalls.some((c) => c.subject === subjects.focusMute && c.payload.participantId === again.selfId && c.payload.kind === 'audio' && c.payload.muted === true));
    // a newcomer on another connection
    const j2 = await s.client().join(r.name, 'Newcomer', { audioMuted: false });
    const seen2 = await r.mod.next((m) => m.type === 'participant-joined' && m.participant.id === j2.selfId);
    assert.equal(seen2.participant.audioMuted, true, 'a newcomer who is not a moderator starts muted too');
  });

  test('ask to stop the camera reaches only the target', async () => {
    const r = await room(2);
    await r.mod.send({ type: 'ask-stop-camera', target: r.people[1]!.id });
    assert.deepEqual(await r.people[1]!.c.nextOfType('camera-stop-requested'), { type: 'camera-stop-requested', by: 'Mod' });
    assert.ok(await r.people[0]!.c.nothingLike((m) => m.type === 'camera-stop-requested'));
  });

  test('remove a participant: they are told and leave; the rest see them go', async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    await r.mod.send({ type: 'remove-participant', target: p0.id });
    assert.deepEqual(await p0.c.nextOfType('removed'), { type: 'removed', by: 'Mod' });
    assert.equal((await p1.c.nextOfType('participant-left')).id, p0.id);
    // the removed socket is no longer in the room
    assert.equal((await p0.c.expectError({ type: 'mute', kind: 'audio', muted: true })).code, 'not-joined');
    // a moderator cannot remove themself
    assert.equal((await r.mod.expectError({ type: 'remove-participant', target: r.modId })).code, 'not-allowed');
  });

  test('end meeting for all: everyone is told and the room is gone', async () => {
    const r = await room(2);
    await r.mod.send({ type: 'end-meeting' });
    for (const c of [r.mod, ...r.people.map((p) => p.c)]) assert.deepEqual(await c.nextOfType('meeting-ended'), { type: 'meeting-ended', by: 'Mod' });
    const again = s.client();
    const j = await again.join(r.name, 'New');
    assert.equal(j.participants.length, 0, 'a new meeting starts empty');
    assert.equal(j.role, 'moderator');
  });
});

describe('room password (lock)', () => {
  test('joiners need the password; wrong ones are refused, then rate-limited', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'lock-room', password: 'abre sésamo' });
    const modState = await r.mod.next((m) => m.type === 'room-state' && m.locked);
    assert.equal(modState.password, 'abre sésamo', 'moderators see the password');
    const pState = await r.people[0]!.c.next((m) => m.type === 'room-state' && m.locked);
    assert.equal(pState.password, undefined, 'participants do not');

    const c = s.client();
    assert.equal((await c.tryJoin(r.name, 'X')).code, 'password-required');
    for (let i = 0; i < 5; i++) assert.equal((await c.tryJoin(r.name, 'X', { password: `guess${i}` })).code, 'wrong-password');
    const limited = await c.tryJoin(r.name, 'X', { password: 'abre sésamo' });
    assert.equal(limited.code, 'rate-limited');
    assert.match(limited.message, /try again in \d+ s/);
    assert.doesNotMatch(s.logs(), /abre sésamo|guess\d/, 'passwords never reach the logs');

    // the limit is per address and room: the right password works in another locked room
    const r2 = await room(0);
    await r2.mod.send({ type: 'lock-room', password: 'pw2' });
    await r2.mod.next((m) => m.type === 'room-state' && m.locked);
    const ok = s.client();
    const j = await ok.join(r2.name, 'Y', { password: 'pw2' });
    assert.equal(j.role, 'participant');
    await r2.mod.send({ type: 'unlock-room' });
    await r2.mod.next((m) => m.type === 'room-state' && !m.locked);
    await s.client().join(r2.name, 'Z');
  });
});

describe('lobby', () => {
  test('knock, moderators see it, admit joins the waiting socket, deny refuses', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'set-lobby', enabled: true });
    await r.mod.next((m) => m.type === 'room-state' && m.lobby);
    const k1 = s.client();
    const wait = await k1.tryJoin(r.name, 'Knocker');
    assert.deepEqual(wait, { type: 'lobby-wait', room: r.name, locked: false });
    const list = await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    assert.equal(list.knocks[0].displayName, 'Knocker');
    assert.ok(await r.people[0]!.c.nothingLike((m) => m.type === 'lobby-list'), 'participants do not see the lobby');
    // a participant cannot admit
    assert.equal((await r.people[0]!.c.expectError({ type: 'lobby-admit', id: list.knocks[0].id })).code, 'not-moderator');
    await r.mod.send({ type: 'lobby-admit', id: list.knocks[0].id });
    const joined = await k1.nextOfType('joined');
    assert.equal(joined.role, 'participant');
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 0);

    const k2 = s.client();
    assert.equal((await k2.tryJoin(r.name, 'Denied')).type, 'lobby-wait');
    const l2 = await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    await r.mod.send({ type: 'lobby-deny', id: l2.knocks[0].id });
    assert.equal((await k2.nextOfType('error')).code, 'denied');

    // a knocker who closes the tab disappears from the list
    const k3 = s.client();
    assert.equal((await k3.tryJoin(r.name, 'Gone')).type, 'lobby-wait');
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    k3.close();
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 0);

    // the right room password skips the lobby; turning the lobby off lets waiting people in
    await r.mod.send({ type: 'lock-room', password: 'pw' });
    await r.mod.next((m) => m.type === 'room-state' && m.locked);
    await s.client().join(r.name, 'WithPassword', { password: 'pw' });
    // someone already waiting is told there is a password: a wrong one keeps their knock, the right one lets them in
    const k5 = s.client();
    assert.deepEqual(await k5.tryJoin(r.name, 'Knows'), { type: 'lobby-wait', room: r.name, locked: true });
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    const again = { type: 'join', room: r.name, displayName: 'Knows', audioMuted: false, videoMuted: false };
    assert.equal((await k5.expectError({ ...again, password: 'nope' })).code, 'wrong-password');
    assert.equal((await k5.expectError(again)).code, 'already-joined', 'still knocking');
    await k5.send({ ...again, password: 'pw' });
    assert.equal((await k5.nextOfType('joined')).role, 'participant');
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 0);
    const k4 = s.client();
    assert.equal((await k4.tryJoin(r.name, 'Patient')).type, 'lobby-wait');
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    // unlocked while waiting: told so
    await r.mod.send({ type: 'unlock-room' });
    assert.deepEqual(await k4.nextOfType('lobby-wait'), { type: 'lobby-wait', room: r.name, locked: false });
    await r.mod.send({ type: 'set-lobby', enabled: false });
    assert.equal((await k4.nextOfType('joined')).role, 'participant');
  });

  test('passwords typed while waiting in the lobby are rate-limited as at joining; the knock stays', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'set-lobby', enabled: true });
    await r.mod.send({ type: 'lock-room', password: 'pw' });
    await r.mod.next((m) => m.type === 'room-state' && m.locked && m.lobby);
    const k = s.client();
    assert.equal((await k.tryJoin(r.name, 'Guesser')).locked, true);
    const again = { type: 'join', room: r.name, displayName: 'Guesser', audioMuted: false, videoMuted: false };
    for (let i = 0; i < 5; i++) assert.equal((await k.expectError({ ...again, password: `guess${i}` })).code, 'wrong-password');
    assert.equal((await k.expectError({ ...again, password: 'pw' })).code, 'rate-limited');
    assert.equal((await k.expectError(again)).code, 'already-joined', 'still knocking');
    await r.mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
  });

  test('when the meeting ends, people waiting in the lobby are told', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'set-lobby', enabled: true });
    await r.mod.next((m) => m.type === 'room-state' && m.lobby);
    const k = s.client();
    assert.equal((await k.tryJoin(r.name, 'Waiting')).type, 'lobby-wait');
    await r.mod.send({ type: 'end-meeting' });
    const e = await k.nextOfType('error');
    assert.equal(e.code, 'lobby-closed');
  });
});

describe('a room whose people all dropped keeps its lock and lobby for them', () => {
  /** Drops the moderator's socket (no leave: a crash or a lost network) and waits until the server saw it. */
  const dropModerator = (r: Awaited<ReturnType<typeof room>>) => dropConnection(s, r.mod);

  test('a newcomer meanwhile needs the password; the right one lets them in, locked still', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'chat', text: 'confidential' });
    await r.mod.send({ type: 'lock-room', password: 'pw-kept' });
    await r.mod.next((m) => m.type === 'room-state' && m.locked);
    await dropModerator(r);
    const c = s.client();
    const first = await c.tryJoin(r.name, 'Stranger');
    assert.equal(first.code, 'password-required', JSON.stringify(first));
    assert.equal((await c.tryJoin(r.name, 'Stranger', { password: 'wrong' })).code, 'wrong-password');
    assert.ok(await c.nothingLike((m) => m.type === 'chat-history' || m.type === 'room-state'), 'nothing of the meeting before the password');
    const j = await c.join(r.name, 'Stranger', { password: 'pw-kept' });
    assert.equal(j.type, 'joined');
    // the kept lock holds (applied as the room starts again here)
    await c.next((m) => m.type === 'room-state' && m.locked);
  });

  test('locked and with the lobby on: a newcomer is asked for the password, which lets them in', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'set-lobby', enabled: true });
    await r.mod.send({ type: 'lock-room', password: 'pw-both' });
    await r.mod.next((m) => m.type === 'room-state' && m.lobby && m.locked);
    await dropModerator(r);
    const c = s.client();
    assert.equal((await c.tryJoin(r.name, 'Knows')).code, 'password-required');
    assert.equal((await c.join(r.name, 'Knows', { password: 'pw-both' })).type, 'joined');
  });

  test('with the lobby on, a newcomer is told nobody can let them in', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'set-lobby', enabled: true });
    await r.mod.next((m) => m.type === 'room-state' && m.lobby);
    await dropModerator(r);
    const refused = await s.client().tryJoin(r.name, 'Stranger');
    assert.equal(refused.code, 'lobby-closed', JSON.stringify(refused));
  });

  test('a room its last person left on purpose is new again', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'lock-room', password: 'pw-gone' });
    await r.mod.next((m) => m.type === 'room-state' && m.locked);
    await r.mod.send({ type: 'leave' });
    await r.mod.nothingLike(() => false); // a round trip: the leave is done
    const j = await s.client().join(r.name, 'Next');
    assert.equal(j.role, 'moderator');
  });
});
