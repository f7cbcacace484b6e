// In-meeting features without a browser: the signal side (chat history, private messages, limits, hands,
// renames), the protocol's checks, and the web app's pure helpers (links, grid columns, pane order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { createLogger } from '../../src/log.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { CHAT_HISTORY_LIMIT, MAX_CHAT_TEXT } from '../../src/protocol/meeting-messages.ts';
import { clientMessageSchema, type ServerMessage } from '../../src/protocol/signal-messages.ts';
import { MeetingFeatures } from '../../src/signal/meeting.ts';
import type { Member, Room } from '../../src/signal/rooms.ts';
import { TokenBucket } from '../../src/signal/token-bucket.ts';
import { splitLinks } from '../../src/web/links.ts';
import { bestColumns } from '../../src/web/layout.ts';
import { orderForPane } from '../../src/web/meeting/participants.ts';

const log = createLogger('silent');

function roomWith(...names: string[]): { room: Room; members: Member[]; inbox: Map<string, ServerMessage[]> } {
  const room: Room = { key: 'sala', name: 'Sala', members: new Map() } as Room;
  const inbox = new Map<string, ServerMessage[]>();
  const members = names.map((name, i) => {
    const id = `p${i}`;
    inbox.set(id, []);
    const m = {
      id,
      room,
      displayName: name,
      audioMuted: false,
      videoMuted: false,
      queue: Promise.resolve(),
      session: { send: (msg: ServerMessage) => inbox.get(id)!.push(msg) },
    } as unknown as Member;
    m.session.member = m;
    room.members.set(id, m);
    return m;
  });
  return { room, members, inbox };
}

test('chat: room messages to everyone and into a bounded history; private ones to the recipient only', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { members, inbox } = roomWith('Ana', 'Ben', 'Caro');
  const [ana, ben] = members as [Member, Member, Member];
  f.chat(ana, 'hola', undefined);
  for (const box of inbox.values()) assert.equal((box.at(-1) as any).message.text, 'hola');
  f.chat(ben, 'secret', ana.id);
  assert.equal((inbox.get('p0')!.at(-1) as any).message.to, 'p0');
  assert.equal((inbox.get('p1')!.at(-1) as any).message.toName, 'Ana');
  assert.equal((inbox.get('p2')!.at(-1) as any).message.text, 'hola', 'Caro did not get the private message');
  f.chat(ben, 'to nobody', 'ghost');
  assert.deepEqual(inbox.get('p1')!.at(-1), { type: 'error', code: 'not-found', message: 'the recipient of that private message is not in this meeting' });
  f.chat(ben, 'to myself', ben.id);
  assert.equal((inbox.get('p1')!.at(-1) as any).code, 'not-found');
  // history: room messages only, the last CHAT_HISTORY_LIMIT
  const late = roomWith('Dan');
  for (let i = 0; i < CHAT_HISTORY_LIMIT + 30; i++) {
    const m = late.members[0]!;
    (f as any).extras.delete(m); // no rate limit for this loop
    f.chat(m, `m${i}`, undefined);
  }
  const dan2 = { ...late.members[0]!, id: 'p9' } as Member;
  const got: ServerMessage[] = [];
  dan2.session = { send: (m: ServerMessage) => got.push(m), member: dan2 };
  f.afterJoin(dan2.session);
  const history = got[0] as Extract<ServerMessage, { type: 'chat-history' }>;
  assert.equal(history.messages.length, CHAT_HISTORY_LIMIT);
  assert.equal(history.messages[0]!.text, 'm30');
  assert.equal(history.messages.at(-1)!.text, `m${CHAT_HISTORY_LIMIT + 29}`);
});

test('chat and reactions are rate-limited with a clear error', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { members, inbox } = roomWith('Ana');
  for (let i = 0; i < 30; i++) f.chat(members[0]!, `spam ${i}`, undefined);
  const errors = inbox.get('p0')!.filter((m) => m.type === 'error');
  assert.ok(errors.length > 0 && errors.every((e) => (e as any).code === 'rate-limited'));
  for (let i = 0; i < 30; i++) f.reaction(members[0]!, 'clap');
  assert.ok(inbox.get('p0')!.filter((m) => m.type === 'reaction').length < 30);
});

test('hands and renames reach everyone as participant-updated; screen share asks focus to renegotiate', async () => {
  const bus = new MemoryBus();
  const asked: unknown[] = [];
  bus.handle(subjects.focusRenegotiate, (p) => {
    asked.push(p);
    return { ok: true };
  });
  const f = new MeetingFeatures(bus, log);
  const { members, inbox } = roomWith('Ana', 'Ben');
  const [ana] = members as [Member, Member];
  f.hand(ana, true);
  const up = inbox.get('p1')!.at(-1) as any;
  assert.equal(up.type, 'participant-updated');
  assert.equal(typeof up.participant.handRaisedAt, 'number');
  f.hand(ana, false);
  assert.equal((inbox.get('p1')!.at(-1) as any).participant.handRaisedAt, undefined);
  f.rename(ana, 'Ana María');
  assert.equal((inbox.get('p1')!.at(-1) as any).participant.displayName, 'Ana María');
  f.screenShare(ana, true);
  assert.equal((inbox.get('p1')!.at(-1) as any).participant.screenSharing, true);
  await ana.queue;
  assert.deepEqual(asked, [{ conferenceId: 'sala', participantId: 'p0' }]);
});

test('the protocol refuses empty, overlong and unknown meeting messages', () => {
  const ok = (m: unknown) => clientMessageSchema.safeParse(m).success;
  assert.ok(ok({ type: 'chat', text: '  hola  ' }));
  assert.equal((clientMessageSchema.parse({ type: 'chat', text: '  hola  ' }) as any).text, 'hola');
  assert.ok(!ok({ type: 'chat', text: '   ' }));
  assert.ok(!ok({ type: 'chat', text: 'x'.repeat(MAX_CHAT_TEXT + 1) }));
  assert.ok(!ok({ type: 'chat', text: 'hi', to: 5 }));
  assert.ok(!ok({ type: 'reaction', reaction: 'explode' }));
  assert.ok(ok({ type: 'reaction', reaction: 'thumbs-up' }));
  assert.ok(!ok({ type: 'rename', displayName: '' }));
  assert.ok(!ok({ type: 'hand', raised: 'yes' }));
  assert.ok(ok({ type: 'screen-share', sharing: false }));
});

test('token bucket: a burst, then a steady rate', () => {
  const b = new TokenBucket(3, 1);
  const t0 = Date.now();
  assert.deepEqual([b.take(t0), b.take(t0), b.take(t0), b.take(t0)], [true, true, true, false]);
  assert.equal(b.take(t0 + 1000), true);
  assert.equal(b.take(t0 + 1000), false);
});

test('links: only http and https become links, trailing punctuation stays text', () => {
  assert.deepEqual(splitLinks('see https://example.org/a?b=1. ok'), [
    { kind: 'text', text: 'see ' },
    { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
    { kind: 'text', text: '. ok' },
  ]);
  assert.deepEqual(splitLinks('javascript:alert(1) <a href="x">'), [{ kind: 'text', text: 'javascript:alert(1) <a href="x">' }]);
  assert.deepEqual(splitLinks('(http://a.b/c)'), [
    { kind: 'text', text: '(' },
    { kind: 'link', text: 'http://a.b/c', href: 'http://a.b/c' },
    { kind: 'text', text: ')' },
  ]);
  assert.deepEqual(splitLinks(''), []);
});

test('grid columns follow the window: wide gets a row, a phone a column', () => {
  assert.equal(bestColumns(2, 900, 500), 2);
  assert.equal(bestColumns(2, 370, 600), 1);
  assert.equal(bestColumns(4, 1200, 700), 2);
  assert.equal(bestColumns(6, 1600, 500), 3);
  assert.equal(bestColumns(1, 0, 0), 1);
});

test('the pane lists raised hands first, earliest first', () => {
  const p = (id: string, handRaisedAt?: number) => ({ id, displayName: id, audioMuted: false, videoMuted: false, ...(handRaisedAt ? { handRaisedAt } : {}) });
  assert.deepEqual(
    orderForPane(p('me'), [p('a', 20), p('b'), p('c', 10)]).map((x) => x.id),
    ['c', 'a', 'me', 'b'],
  );
});
