// Audio/video moderation ("Ask to unmute") over real HTTPS + WebSocket (open rooms): moderating mutes the
// participants, a self-unmute is refused until a moderator allows it, requests reach the moderators, joiners and
// reconnecting participants start muted and learn the state, and a non-moderator cannot moderate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { ASK_BURST } from '../../src/signal/av-moderation.ts';
import { roomWithModerator, startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

let roomCounter = 0;
/** A fresh room with a moderator (the first to join) and `n` more participants. */
const room = (n: number) => roomWithModerator(s, `av-room-${++roomCounter}`, n);

const flags = (audio: boolean, video: boolean) => ({ audio, video });
const focusMuted = (id: string, kind: string) =>
  s.focusCalls.some((c) => c.subject === subjects.focusMute && c.payload.participantId === id && c.payload.kind === kind && c.payload.muted === true);

describe('audio moderation', () => {
  test('a joiner learns the state: nothing moderated, allowed', async () => {
    const r = await room(1);
    const st = await r.people[0]!.c.nextOfType('av-moderation');
    assert.deepEqual(st, { type: 'av-moderation', enabled: flags(false, false), allowed: flags(true, true), asked: flags(false, false) });
    assert.deepEqual(await r.mod.nextOfType('unmute-requests'), { type: 'unmute-requests', requests: [] });
  });

  test('moderating mutes participants; unmute refused; ask, allow, then unmute works', async () => {
    const r = await room(2);
    const [p0, p1] = r.people as [{ c: WsClient; id: string }, { c: WsClient; id: string }];
    await p0.c.nextOfType('av-moderation');
    await r.mod.send({ type: 'set-av-moderation', kind: 'audio', enabled: true });
    for (const p of r.people) {
      assert.deepEqual(await p.c.nextOfType('force-muted'), { type: 'force-muted', by: 'Mod' });
      const st = await p.c.next((m) => m.type === 'av-moderation' && m.enabled.audio);
      assert.deepEqual(st.allowed, flags(false, true));
    }
    assert.ok(await r.mod.nothingLike((m) => m.type === 'force-muted'), 'the moderator is not muted');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(focusMuted(p0.id, 'audio'), 'focus (and so the bridge) drops their audio');

    // a forged unmute is refused and changes nothing
    const e = await p0.c.expectError({ type: 'mute', kind: 'audio', muted: false });
    assert.equal(e.code, 'not-allowed');
    assert.ok(await r.mod.nothingLike((m) => m.type === 'participant-updated' && m.participant.id === p0.id && !m.participant.audioMuted));
    // video is not moderated: the camera may go on
    await p0.c.send({ type: 'mute', kind: 'video', muted: true });
    await p0.c.send({ type: 'mute', kind: 'video', muted: false });
    await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id && !m.participant.videoMuted && m.participant.audioMuted);

    // ask: moderators see the request, the asker sees it waiting
    await p0.c.send({ type: 'ask-to-unmute', kind: 'audio' });
    assert.deepEqual((await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 1)).requests, [{ id: p0.id, displayName: 'P0', kind: 'audio' }]);
    assert.deepEqual((await p0.c.next((m) => m.type === 'av-moderation' && m.asked.audio)).allowed, flags(false, true));
    assert.ok(await p1.c.nothingLike((m) => m.type === 'unmute-requests'), 'participants do not see requests');
    // a participant cannot allow
    assert.equal((await p1.c.expectError({ type: 'allow-unmute', kind: 'audio', target: p1.id })).code, 'not-moderator');

    await r.mod.send({ type: 'allow-unmute', kind: 'audio', target: p0.id });
    const allowed = await p0.c.next((m) => m.type === 'av-moderation' && m.allowed.audio);
    assert.deepEqual(allowed.asked, flags(false, false));
    assert.deepEqual((await r.mod.next((m) => m.type === 'unmute-requests')).requests, []);
    await p0.c.send({ type: 'mute', kind: 'audio', muted: false });
    await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p0.id && !m.participant.audioMuted);
    // P1 still cannot
    assert.equal((await p1.c.expectError({ type: 'mute', kind: 'audio', muted: false })).code, 'not-allowed');
  });

  test('allow everyone who asked; dismiss a request; stop moderating lets everyone unmute', async () => {
    const r = await room(3);
    const [p0, p1, p2] = r.people as { c: WsClient; id: string }[] as [{ c: WsClient; id: string }, { c: WsClient; id: string }, { c: WsClient; id: string }];
    await r.mod.send({ type: 'set-av-moderation', kind: 'audio', enabled: true });
    for (const p of r.people) await p.c.next((m) => m.type === 'av-moderation' && m.enabled.audio);
    for (const p of r.people) await p.c.send({ type: 'ask-to-unmute', kind: 'audio' });
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 3);
    await r.mod.send({ type: 'dismiss-unmute-request', kind: 'audio', target: p2.id });
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 2);
    assert.equal((await p2.c.next((m) => m.type === 'av-moderation' && m.enabled.audio && !m.asked.audio)).allowed.audio, false);
    await r.mod.send({ type: 'allow-unmute', kind: 'audio' });
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 0);
    for (const p of [p0, p1]) await p.c.next((m) => m.type === 'av-moderation' && m.allowed.audio);
    assert.equal((await p2.c.expectError({ type: 'mute', kind: 'audio', muted: false })).code, 'not-allowed');
    await r.mod.send({ type: 'set-av-moderation', kind: 'audio', enabled: false });
    await p2.c.next((m) => m.type === 'av-moderation' && !m.enabled.audio && m.allowed.audio);
    await p2.c.send({ type: 'mute', kind: 'audio', muted: false });
    await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === p2.id && !m.participant.audioMuted);
  });

  test('joiners and a reconnecting participant start muted and learn the state; a new moderator may unmute', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'set-av-moderation', kind: 'audio', enabled: true });
    await r.mod.send({ type: 'set-av-moderation', kind: 'video', enabled: true });
    const p0 = r.people[0]!;
    await p0.c.next((m) => m.type === 'av-moderation' && m.enabled.audio && m.enabled.video);
    // a page reload: the old socket goes, a new one joins with microphone and camera on
    p0.c.close();
    await r.mod.next((m) => m.type === 'participant-left' && m.id === p0.id);
    const again = s.client();
    const j = await again.join(r.name, 'P0', { audioMuted: false, videoMuted: false });
    const seen = await r.mod.next((m) => m.type === 'participant-joined' && m.participant.id === j.selfId);
    assert.deepEqual([seen.participant.audioMuted, seen.participant.videoMuted], [true, true]);
    assert.equal((await again.next((m) => m.type === 'force-muted' && m.kind === undefined)).by, 'Mod');
    await again.next((m) => m.type === 'force-muted' && m.kind === 'video');
    const st = await again.nextOfType('av-moderation');
    assert.deepEqual([st.enabled, st.allowed], [flags(true, true), flags(false, false)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(focusMuted(j.selfId, 'audio') && focusMuted(j.selfId, 'video'));
    assert.equal((await again.expectError({ type: 'mute', kind: 'video', muted: false })).code, 'not-allowed');
    // made a moderator: allowed at once, and its pending request is gone
    await again.send({ type: 'ask-to-unmute', kind: 'audio' });
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 1);
    await r.mod.send({ type: 'grant-moderator', target: j.selfId });
    assert.deepEqual((await again.next((m) => m.type === 'av-moderation' && m.allowed.audio)).allowed, flags(true, true));
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 0);
    await again.send({ type: 'mute', kind: 'audio', muted: false });
    await r.mod.next((m) => m.type === 'participant-updated' && m.participant.id === j.selfId && !m.participant.audioMuted);
  });

  test('the request leaves with its participant', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'set-av-moderation', kind: 'video', enabled: true });
    const p0 = r.people[0]!;
    await p0.c.next((m) => m.type === 'av-moderation' && m.enabled.video);
    await p0.c.send({ type: 'ask-to-unmute', kind: 'video' });
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 1);
    p0.c.close();
    await r.mod.next((m) => m.type === 'unmute-requests' && m.requests.length === 0);
  });
});

describe('bad and abusive requests', () => {
  test('a non-moderator cannot moderate, allow or dismiss', async () => {
    const r = await room(1);
    const p0 = r.people[0]!;
    for (const msg of [
      { type: 'set-av-moderation', kind: 'audio', enabled: true },
      { type: 'allow-unmute', kind: 'video' },
      { type: 'dismiss-unmute-request', kind: 'audio', target: r.modId },
    ]) {
      assert.equal((await p0.c.expectError(msg)).code, 'not-moderator', msg.type);
    }
    assert.ok(await r.mod.nothingLike((m) => m.type === 'force-muted'));
  });

  test('malformed messages are bad-message; an unknown target is no-such-participant', async () => {
    const r = await room(0);
    assert.equal((await r.mod.expectError({ type: 'set-av-moderation', kind: 'screen', enabled: true })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'set-av-moderation', kind: 'audio' })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'ask-to-unmute' })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'allow-unmute', kind: 'audio', target: 'x'.repeat(65) })).code, 'bad-message');
    assert.equal((await r.mod.expectError({ type: 'allow-unmute', kind: 'audio', target: 'nobody' })).code, 'no-such-participant');
    const c = s.client();
    assert.equal((await c.expectError({ type: 'ask-to-unmute', kind: 'audio' })).code, 'not-joined');
  });

  test('asking is rate-limited', async () => {
    const r = await room(1);
    await r.mod.send({ type: 'set-av-moderation', kind: 'audio', enabled: true });
    const p0 = r.people[0]!;
    await p0.c.next((m) => m.type === 'av-moderation' && m.enabled.audio);
    for (let i = 0; i < ASK_BURST; i++) await p0.c.send({ type: 'ask-to-unmute', kind: 'audio', raised: i % 2 === 0 });
    assert.equal((await p0.c.expectError({ type: 'ask-to-unmute', kind: 'audio' })).code, 'rate-limited');
  });
});
