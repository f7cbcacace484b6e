// The page reads the server's messages through its own schema (web/media/server-messages.ts), which drops what it
// does not know: a field the server sends and the schema lacks never reaches the app (as `joined`'s phoneInvites
// once did). Each message here, with every optional field, comes through whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerMessage } from '../../src/protocol/signal-messages.ts';
import { parseServerMessage } from '../../src/web/media/server-messages.ts';

const whole: ServerMessage[] = [
  {
    type: 'joined',
    selfId: 'p1',
    room: 'Team standup',
    participants: [{ id: 'p2', displayName: 'Ana', audioMuted: false, videoMuted: true, handRaisedAt: 5, screenSharing: true, role: 'moderator', phone: true }],
    role: 'moderator',
    iceServers: [{ urls: ['turn:example.org:3478?transport=udp'], username: '1:x', credential: 'c' }],
    resumeToken: 'A'.repeat(32),
    phoneInvites: true,
  },
  { type: 'live-stream', active: true, by: 'Ana', connecting: true, interrupted: false, current: true },
  { type: 'live-stream', active: true, by: 'Ana', interrupted: true, change: 'interrupted' },
  { type: 'live-stream', active: true, by: 'Ana', interrupted: false, change: 'connected' },
  { type: 'meeting-ended', by: 'Ana' },
];

test('every field of these server messages reaches the app', () => {
  for (const m of whole) assert.deepEqual(parseServerMessage(JSON.stringify(m)), m, m.type);
});
