// What the page tells a person about moderation, from the server's messages (the web app's own stores, with a
// fake conference): "You are now a moderator" / "Ben is now a moderator" when the role changes (not the role one
// joins with), and a moderator's word about one's microphone or camera that goes once one changes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Participant } from '../../src/protocol/signal-messages.ts';
import { AccessClient } from '../../src/web/access/access-client.ts';
import type { Conference } from '../../src/web/media/conference.ts';
import { NotificationsStore } from '../../src/web/meeting/notifications.ts';
import { fakeConference } from '../helpers/fake-conference.ts';

const person = (id: string, displayName: string, role?: 'moderator'): Participant => ({ id, displayName, audioMuted: false, videoMuted: false, ...(role ? { role } : {}) });

test('a change to moderator is told: to the person ("you"), and to the others by name; the role one joins with is not', () => {
  const c = fakeConference();
  const notices = new NotificationsStore(c as unknown as Conference);
  const kinds = () => notices.state.notices.map((n) => ('name' in n ? `${n.kind} ${n.name}` : n.kind));
  c.receive({ type: 'joined', selfId: 'me', room: 'R', role: 'participant', participants: [person('ana', 'Ana', 'moderator'), person('ben', 'Ben')] });
  c.receive({ type: 'participant-updated', participant: person('ana', 'Ana', 'moderator') });
  assert.deepEqual(kinds(), [], 'Ana was a moderator already');
  c.receive({ type: 'participant-updated', participant: person('ben', 'Ben', 'moderator') });
  c.receive({ type: 'participant-updated', participant: person('me', 'Me', 'moderator') });
  c.receive({ type: 'participant-updated', participant: person('me', 'Me', 'moderator') });
  assert.deepEqual(kinds(), ['moderator Ben', 'you-moderator'], 'each once');
  notices.dispose();

  const first = fakeConference();
  const mine = new NotificationsStore(first as unknown as Conference);
  first.receive({ type: 'joined', selfId: 'me', room: 'R', role: 'moderator', participants: [] });
  first.receive({ type: 'participant-updated', participant: person('me', 'Me', 'moderator') });
  assert.deepEqual(mine.state.notices, [], 'the first one in is a moderator from the start: no news');
  mine.dispose();
});

test("a moderator's word about our microphone or camera goes once we change it", async () => {
  const c = fakeConference();
  c.setLocal({ audioMuted: false, videoMuted: false });
  const access = new AccessClient(c as unknown as Conference, '');
  c.receive({ type: 'force-muted', by: 'Ana' });
  await Promise.resolve();
  assert.equal(access.state.mutedBy, 'Ana');
  assert.equal(c.local.state.audioMuted, true, 'muted as told');
  c.setLocal({ videoMuted: true });
  assert.equal(access.state.mutedBy, 'Ana', 'the camera is another matter');
  c.setLocal({ audioMuted: false });
  assert.equal(access.state.mutedBy, null, 'unmuted again: the notice has done its job');

  c.setLocal({ videoMuted: false });
  c.receive({ type: 'camera-stop-requested', by: 'Ana' });
  assert.equal(access.state.cameraRequestBy, 'Ana');
  c.receive({ type: 'force-muted', by: 'Ana', kind: 'video' });
  assert.deepEqual([access.state.cameraOffBy, access.state.cameraRequestBy], ['Ana', null], 'stopped by the moderator: one notice, not the request too');
  c.setLocal({ videoMuted: false });
  assert.equal(access.state.cameraOffBy, null, 'the camera is back on');

  c.receive({ type: 'camera-stop-requested', by: 'Ana' });
  c.setLocal({ videoMuted: true });
  assert.equal(access.state.cameraRequestBy, null, 'turned off with the toolbar: the request is answered');
  access.dispose();
});

test("joining muted (or with the camera off) by the room's moderation is no one muting us; a new room forgets it", async () => {
  const c = fakeConference();
  c.setLocal({ audioMuted: false, videoMuted: false });
  const access = new AccessClient(c as unknown as Conference, '');
  c.receive({ type: 'joined', selfId: 'me', room: 'R', role: 'participant', participants: [] });
  c.receive({ type: 'force-muted', by: 'Ana', atJoin: true });
  c.receive({ type: 'force-muted', by: 'Ana', kind: 'video', atJoin: true });
  await Promise.resolve();
  assert.deepEqual([access.state.mutedBy, access.state.cameraOffBy], [null, null], 'nobody muted us');
  assert.deepEqual([access.state.unmuteLocked, access.state.cameraOffAtJoin], ['joined', true]);
  assert.equal(c.local.state.audioMuted, true, 'muted as the room says');
  // the microphone button while unmuting is off: said here, not sent
  c.receive({ type: 'room-state', locked: false, lobby: false, selfUnmuteAllowed: false });
  assert.equal(access.unmuteLocked, true);
  access.refusedUnmute();
  assert.equal(access.state.unmuteLocked, 'tried');
  // a breakout move: a new room
  c.receive({ type: 'joined', selfId: 'me2', room: 'R2', role: 'participant', participants: [] });
  assert.deepEqual([access.state.unmuteLocked, access.state.cameraOffAtJoin], [null, false]);
  access.dispose();
});
