// Polls and the meeting's subject on the signal side: the protocol's checks, the rights (creator, moderator),
// the caps and rate limits, answers changed and kept across a reload (same tab key), late joiners' state, and
// the same through the real WebSocket server (not joined, another room, a forged moderator message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { createLogger } from '../../src/log.ts';
import { MAX_SUBJECT } from '../../src/protocol/meeting-messages.ts';
import { MAX_POLL_OPTION, MAX_POLL_QUESTION, MAX_POLLS_PER_ROOM, repeatedPollOption } from '../../src/protocol/poll-messages.ts';
import { clientMessageSchema, type ServerMessage } from '../../src/protocol/signal-messages.ts';
import { MeetingFeatures } from '../../src/signal/meeting.ts';
import type { Member, Room } from '../../src/signal/rooms.ts';
import { startTestSignal } from '../helpers/signal-client.ts';

const log = createLogger('silent');
const KEY_A = 'a'.repeat(22);
const KEY_B = 'b'.repeat(22);
const KEY_C = 'c'.repeat(22);

type Inbox = ServerMessage[];

/** A room of fake members; the first is its moderator. Each member's messages go to its inbox. */
function meeting(...names: string[]) {
  const room = { key: 'sala', name: 'Sala', members: new Map() } as Room;
  const inboxes = new Map<Member, Inbox>();
  const add = (name: string, role: 'moderator' | 'participant'): Member => {
    const inbox: Inbox = [];
    const m = { id: `p${room.members.size}-${name}`, room, displayName: name, role, session: { send: (msg: ServerMessage) => inbox.push(msg) } } as unknown as Member;
    m.session.member = m;
    room.members.set(m.id, m);
    inboxes.set(m, inbox);
    return m;
  };
  const members = names.map((n, i) => add(n, i === 0 ? 'moderator' : 'participant'));
  // the last message of the polls and subject features (a join also gets other features' state: E2EE, the board)
  const others = new Set(['e2ee-state', 'board-state']);
  const last = (m: Member) => inboxes.get(m)!.filter((msg) => !others.has(msg.type)).at(-1) as any;
  const leave = (m: Member) => room.members.delete(m.id);
  return { room, members, add, last, inboxes, leave };
}

test('the protocol checks polls and subjects before anything else sees them', () => {
  const ok = (m: unknown) => clientMessageSchema.safeParse(m).success;
  const poll = (question: unknown, options: unknown, key: unknown = KEY_A) => ({ type: 'create-poll', question, options, key });
  assert.ok(ok(poll('Lunch?', ['Yes', 'No'])));
  assert.deepEqual((clientMessageSchema.parse(poll('  Lunch? ', [' Yes', 'No '])) as any).options, ['Yes', 'No']);
  assert.ok(!ok(poll('  ', ['Yes', 'No'])), 'empty question');
  assert.ok(!ok(poll('x'.repeat(MAX_POLL_QUESTION + 1), ['Yes', 'No'])));
  assert.ok(ok(poll('x'.repeat(MAX_POLL_QUESTION), ['Yes', 'x'.repeat(MAX_POLL_OPTION)])));
  assert.ok(!ok(poll('Q', ['only one'])));
  assert.ok(!ok(poll('Q', Array.from({ length: 11 }, (_, i) => `o${i}`))));
  assert.ok(ok(poll('Q', Array.from({ length: 10 }, (_, i) => `o${i}`))));
  assert.ok(!ok(poll('Q', ['Yes', ' '])), 'empty option');
  assert.ok(!ok(poll('Q', ['Yes', 'No', ' yes'])), 'the same option twice (case and spaces aside)');
  assert.equal(repeatedPollOption(['Yes', 'No', ' YES ']), 2);
  assert.equal(repeatedPollOption(['', '', 'a']), -1, 'empty ones are not repeats (the form asks for them)');
  assert.equal(repeatedPollOption(['Caf\u00e9', 'Cafe\u0301']), 1, 'the same text however it is composed');
  assert.equal(repeatedPollOption([' Pizza', 'Pizza\u200b']), 1, 'invisible characters aside');
  assert.ok(!ok(poll('Q', ['Yes', 'x'.repeat(MAX_POLL_OPTION + 1)])));
  assert.ok(!ok(poll('Q', ['Yes', 'No'], 'short')), 'a guessable key');
  assert.ok(!ok(poll('Q', ['Yes', 'No'], 'ü'.repeat(20))));
  assert.ok(!ok({ type: 'answer-poll', pollId: 'p', option: -1, key: KEY_A }));
  assert.ok(!ok({ type: 'answer-poll', pollId: 'p', option: 1.5, key: KEY_A }));
  assert.ok(!ok({ type: 'answer-poll', pollId: 'p', option: 10, key: KEY_A }));
  assert.ok(!ok({ type: 'answer-poll', pollId: '', option: 0, key: KEY_A }));
  assert.ok(ok({ type: 'close-poll', pollId: 'p', key: KEY_A }));
  // the subject: cleaned like a display name, '' clears
  assert.equal((clientMessageSchema.parse({ type: 'set-subject', subject: ' \u202eWeekly\u200b sync\u0007 ' }) as any).subject, 'Weekly sync');
  assert.equal((clientMessageSchema.parse({ type: 'set-subject', subject: '' }) as any).subject, '');
  assert.ok(ok({ type: 'set-subject', subject: 's'.repeat(MAX_SUBJECT) }));
  assert.ok(!ok({ type: 'set-subject', subject: 's'.repeat(MAX_SUBJECT + 1) }));
  assert.ok(!ok({ type: 'set-subject', subject: 5 }));
});

test('polls: created for everyone, answered once per voter, counted live without names, closed by its creator', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { members, last, add } = meeting('Ana', 'Ben', 'Caro');
  const [ana, ben, caro] = members as [Member, Member, Member];
  f.polls.create(ben, 'Lunch?', ['Pizza', 'Tacos', 'Soup'], KEY_B);
  const created = last(ana);
  assert.equal(created.type, 'poll');
  assert.equal(created.mine, undefined);
  assert.equal(last(ben).mine, true, 'the creator is told it is theirs');
  const id = created.poll.id as string;
  assert.deepEqual(created.poll.options, [
    { text: 'Pizza', votes: 0 },
    { text: 'Tacos', votes: 0 },
    { text: 'Soup', votes: 0 },
  ]);
  assert.equal(created.poll.creatorName, 'Ben');
  assert.equal(created.poll.closed, false);

  f.polls.answer(ana, id, 1, KEY_A);
  f.polls.answer(caro, id, 1, KEY_C);
  assert.equal(last(ana).answer, undefined, 'Caro\'s answer is not Ana\'s');
  assert.equal(last(caro).answer, 1);
  assert.deepEqual(last(ben).poll.options.map((o: any) => o.votes), [0, 2, 0]);
  assert.equal(last(ben).poll.voters, 2);
  assert.doesNotMatch(JSON.stringify(last(ben)), /Ana|Caro|p0-|p2-|aaaaaaaaaa|cccccccccc/, 'who voted is never told');

  // the same option twice: refused, nothing changes; another one: the answer changes (Jitsi's "Change vote")
  f.polls.answer(ana, id, 1, KEY_A);
  assert.equal(last(ana).code, 'poll-already-answered');
  f.polls.answer(ana, id, 0, KEY_A);
  assert.deepEqual(last(caro).poll.options.map((o: any) => o.votes), [1, 1, 0]);
  assert.equal(last(caro).poll.voters, 2);

  // bad option, unknown poll, another key from the same participant
  f.polls.answer(ana, id, 3, KEY_A);
  assert.equal(last(ana).code, 'poll-bad-option');
  f.polls.answer(ana, 'poll-nope', 0, KEY_A);
  assert.equal(last(ana).code, 'poll-not-found');
  f.polls.answer(caro, id, 2, KEY_B);
  assert.equal(last(caro).code, 'bad-message', 'one key per participant: no second vote under another key');
  assert.deepEqual(last(ben).poll.options.map((o: any) => o.votes), [1, 1, 0]);

  // Caro reloads the page: a new participant, the same tab key: her answer changes, it is not added
  const caro2 = add('Caro', 'participant');
  f.afterJoin(caro2.session);
  const state = last(caro2);
  assert.equal(state.type, 'polls');
  assert.deepEqual(state.polls.map((p: any) => p.options.map((o: any) => o.votes)), [[1, 1, 0]]);
  f.polls.answer(caro2, id, 2, KEY_C);
  assert.deepEqual(last(ana).poll.options.map((o: any) => o.votes), [1, 0, 1]);
  assert.equal(last(ana).poll.voters, 2);

  // only its creator (or a moderator) closes it; then no more answers
  f.polls.close(caro2, id, KEY_C);
  assert.equal(last(caro2).code, 'not-allowed');
  f.polls.close(ben, id, KEY_B);
  assert.equal(last(ana).poll.closed, true);
  f.polls.answer(caro2, id, 0, KEY_C);
  assert.equal(last(caro2).code, 'poll-closed');
  f.polls.close(ben, id, KEY_B);
  assert.equal(last(ben).code, 'poll-closed');
  // a late joiner sees the closed poll with its final counts
  const dan = add('Dan', 'participant');
  f.afterJoin(dan.session);
  const late = last(dan);
  assert.equal(late.polls[0].closed, true);
  assert.deepEqual(late.polls[0].options.map((o: any) => o.votes), [1, 0, 1]);
});

test('polls: a moderator closes anyone\'s; the creator closes theirs after a reload (same key)', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { members, last, add, leave } = meeting('Ana', 'Ben');
  const [ana, ben] = members as [Member, Member];
  f.polls.create(ben, 'One?', ['a', 'b'], KEY_B);
  f.polls.create(ben, 'Two?', ['a', 'b'], KEY_B);
  const [one, two] = (() => {
    f.afterJoin(ana.session);
    return last(ana).polls.map((p: any) => p.id) as [string, string];
  })();
  f.polls.close(ana, one, KEY_A);
  assert.equal(last(ben).poll.closed, true);
  leave(ben);
  const ben2 = add('Ben', 'participant');
  f.polls.close(ben2, two, KEY_B);
  assert.equal(last(ana).poll.id, two);
  assert.equal(last(ana).poll.closed, true);
});

test('polls: at most MAX_POLLS_PER_ROOM per room, and creating is rate-limited', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { members, last, inboxes, add } = meeting('Ana', 'Ben');
  const [ana, ben] = members as [Member, Member];
  for (let i = 0; i < 10; i++) f.polls.create(ben, `Q${i}`, ['a', 'b'], KEY_B);
  const benBox = inboxes.get(ben)!;
  assert.equal(benBox.filter((m) => m.type === 'poll').length, 3, 'a burst of three, then the rate');
  assert.ok(benBox.filter((m) => m.type === 'error').every((m: any) => m.code === 'rate-limited'));
  // fill the room (each poll from a fresh participant: no one's rate is in the way)
  for (let i = 3; i < MAX_POLLS_PER_ROOM; i++) f.polls.create(add(`P${i}`, 'participant'), `Q${i}`, ['a', 'b'], `k${String(i).padStart(20, '0')}`);
  f.afterJoin(ana.session);
  assert.equal(last(ana).polls.length, MAX_POLLS_PER_ROOM);
  f.polls.create(ana, 'one more', ['a', 'b'], KEY_A);
  assert.equal(last(ana).code, 'poll-limit');
  f.afterJoin(ana.session);
  assert.equal(last(ana).polls.length, MAX_POLLS_PER_ROOM, 'nothing changed');
});

test('subject: a moderator sets and clears it for everyone; late joiners see it; others are refused', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { room, members, last, add, inboxes } = meeting('Ana', 'Ben');
  const [ana, ben] = members as [Member, Member];
  const late = add('Caro', 'participant');
  f.afterJoin(late.session);
  assert.ok(!f.subjects.of(room));
  assert.equal(last(late).type, 'polls', 'no subject message while there is none');
  f.subjects.set(ben, 'Hijacked');
  assert.equal(last(ben).code, 'not-moderator');
  assert.equal(f.subjects.of(room), '');
  f.subjects.set(ana, 'Weekly sync');
  assert.deepEqual(last(ben), { type: 'subject', subject: 'Weekly sync', by: 'Ana' });
  const dan = add('Dan', 'participant');
  f.afterJoin(dan.session);
  assert.deepEqual(inboxes.get(dan)!.find((m) => m.type === 'subject'), { type: 'subject', subject: 'Weekly sync' });
  f.subjects.set(ana, '');
  assert.deepEqual(last(ben), { type: 'subject', subject: '', by: 'Ana' });
  assert.equal(f.subjects.of(room), '');
  // moderators are rate-limited too
  for (let i = 0; i < 20; i++) f.subjects.set(ana, `S${i}`);
  assert.equal(last(ana).code, 'rate-limited');
});

test('the real server: polls and the subject over the WebSocket, refusals included', async () => {
  const s = await startTestSignal();
  try {
    const stranger = s.client();
    const e = await stranger.expectError({ type: 'answer-poll', pollId: 'poll-x', option: 0, key: KEY_C });
    assert.equal(e.code, 'not-joined');
    const ana = s.client();
    const ben = s.client();
    const other = s.client();
    await ana.join('Encuesta', 'Ana');
    await ben.join('Encuesta', 'Ben');
    await other.join('OtraSala', 'Olga');
    assert.deepEqual(await ben.nextOfType('polls'), { type: 'polls', polls: [] });
    // a participant's forged subject is refused; the moderator's reaches everyone
    assert.equal((await ben.expectError({ type: 'set-subject', subject: 'Forged' })).code, 'not-moderator');
    await ana.send({ type: 'set-subject', subject: 'Retro <b>sprint</b>' });
    assert.deepEqual(await ben.nextOfType('subject'), { type: 'subject', subject: 'Retro <b>sprint</b>', by: 'Ana' });
    await ben.send({ type: 'create-poll', question: 'Ship it?', options: ['Yes', 'No'], key: KEY_B });
    const poll = (await ana.nextOfType('poll')).poll;
    assert.equal((await ben.nextOfType('poll')).mine, true);
    // someone of another room cannot answer it; a bad index is refused
    assert.equal((await other.expectError({ type: 'answer-poll', pollId: poll.id, option: 0, key: KEY_C })).code, 'poll-not-found');
    assert.equal((await ana.expectError({ type: 'answer-poll', pollId: poll.id, option: 2, key: KEY_A })).code, 'poll-bad-option');
    assert.equal((await ana.expectError({ type: 'answer-poll', pollId: poll.id, option: -1, key: KEY_A })).code, 'bad-message');
    await ana.send({ type: 'answer-poll', pollId: poll.id, option: 0, key: KEY_A });
    assert.deepEqual((await ben.nextOfType('poll')).poll.options, [
      { text: 'Yes', votes: 1 },
      { text: 'No', votes: 0 },
    ]);
    // a late joiner gets the subject and the poll with its counts
    const caro = s.client();
    await caro.join('Encuesta', 'Caro');
    assert.equal((await caro.nextOfType('subject')).subject, 'Retro <b>sprint</b>');
    const state = await caro.nextOfType('polls');
    assert.equal(state.polls[0].options[0].votes, 1);
    assert.ok(await other.nothingLike((m) => m.type === 'subject' || m.type === 'poll'), 'the other room hears nothing');
  } finally {
    await s.stop();
  }
});
