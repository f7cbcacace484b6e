// Follow me on the signal side: the protocol's checks, only a moderator turns it on (and becomes the leader), the
// leader's layouts reach everyone and nobody else's count, a burst of layouts ends on the last one, a joiner is
// told, any moderator turns it off, and it ends when the leader leaves (after a grace when its connection dropped);
// then the same through the real WebSocket server. Across signal instances: test/unit/signal-fanout.test.ts.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { createLogger } from '../../src/log.ts';
import { clientMessageSchema, type ServerMessage } from '../../src/protocol/signal-messages.ts';
import { MeetingFeatures } from '../../src/signal/meeting.ts';
import { RETURN_GRACE_MS } from '../../src/signal/follow-me.ts';
import type { Member, Room, Session } from '../../src/signal/rooms.ts';
import { startTestSignal } from '../helpers/signal-client.ts';

const log = createLogger('silent');

function room(...people: Array<[string, 'moderator' | 'participant']>) {
  const r = { key: 'clase', name: 'Clase', members: new Map() } as Room;
  const inboxes = new Map<Member, ServerMessage[]>();
  const add = (name: string, role: 'moderator' | 'participant'): Member => {
    const inbox: ServerMessage[] = [];
    const m = { id: `id-${name}`, room: r, displayName: name, role, session: { send: (msg: ServerMessage) => inbox.push(msg) } } as unknown as Member;
    m.session.member = m;
    r.members.set(m.id, m);
    inboxes.set(m, inbox);
    return m;
  };
  const members = people.map(([n, role]) => add(n, role));
  const followMe = (m: Member) => inboxes.get(m)!.filter((x) => x.type === 'follow-me') as Array<Extract<ServerMessage, { type: 'follow-me' }>>;
  const errors = (m: Member) => inboxes.get(m)!.filter((x) => x.type === 'error') as Array<Extract<ServerMessage, { type: 'error' }>>;
  return { room: r, members, add, followMe, errors };
}

test('the protocol checks follow-me messages', () => {
  const ok = (m: unknown) => clientMessageSchema.safeParse(m).success;
  assert.ok(ok({ type: 'set-follow-me', enabled: true }));
  assert.ok(ok({ type: 'set-follow-me', enabled: true, layout: { view: 'speaker', pinned: null } }));
  assert.ok(!ok({ type: 'set-follow-me', enabled: true, layout: { view: 'speaker' } }));
  assert.ok(!ok({ type: 'set-follow-me', enabled: 'yes' }));
  assert.ok(ok({ type: 'follow-me-layout', layout: { view: 'speaker', pinned: 'abc:screen' } }));
  assert.ok(ok({ type: 'follow-me-layout', layout: { view: 'tile', pinned: null } }));
  assert.ok(!ok({ type: 'follow-me-layout', layout: { view: 'grid', pinned: null } }));
  assert.ok(!ok({ type: 'follow-me-layout', layout: { view: 'tile' } }), 'pinned is said, even when none');
  assert.ok(!ok({ type: 'follow-me-layout', layout: { view: 'tile', pinned: '' } }));
  assert.ok(!ok({ type: 'follow-me-layout', layout: { view: 'tile', pinned: 'x'.repeat(81) } }));
});

test('a moderator leads; the leader layouts reach everyone, nobody else counts; any moderator ends it; it ends when the leader leaves', () => {
  const f = new MeetingFeatures(new MemoryBus(), log);
  const { room: r, members, add, followMe, errors } = room(['Ana', 'moderator'], ['Ben', 'participant'], ['Caro', 'moderator']);
  const [ana, ben, caro] = members as [Member, Member, Member];
  f.followMe.set(ben, true);
  assert.equal(errors(ben).at(-1)?.code, 'not-moderator');
  assert.equal(followMe(ana).length, 0);

  f.followMe.set(ana, true);
  for (const m of members) assert.deepEqual(followMe(m).at(-1), { type: 'follow-me', leader: ana.id, layout: { view: 'tile', pinned: null } });
  f.followMe.set(ana, true);
  assert.equal(followMe(ben).length, 1, 'on again changes nothing');

  f.followMe.layout(ana, { view: 'speaker', pinned: `${ben.id}:screen` });
  assert.deepEqual(followMe(ben).at(-1), { type: 'follow-me', leader: ana.id, layout: { view: 'speaker', pinned: `${ben.id}:screen` } });
  f.followMe.layout(ana, { view: 'speaker', pinned: `${ben.id}:screen` });
  assert.equal(followMe(ben).length, 2, 'the same layout again is not news');
  // someone else's layout is ignored (follow me may have just changed hands), without an error
  f.followMe.layout(ben, { view: 'tile', pinned: null });
  f.followMe.layout(caro, { view: 'tile', pinned: null });
  assert.equal(followMe(ben).length, 2);
  assert.equal(errors(caro).length, 0);

  // a joiner is told it
  const dani = add('Dani', 'participant');
  f.followMe.afterJoin(dani.session as Session);
  assert.deepEqual(followMe(dani).at(-1), { type: 'follow-me', leader: ana.id, layout: { view: 'speaker', pinned: `${ben.id}:screen` } });

  // another moderator takes the lead, then ends it
  f.followMe.set(caro, true);
  assert.equal(followMe(ben).at(-1)?.leader, caro.id);
  f.followMe.layout(ana, { view: 'tile', pinned: null });
  assert.equal(followMe(ben).at(-1)?.layout?.view, 'tile', 'the layout Caro started with');
  assert.equal(followMe(ben).length, 3, "Ana's layout is no longer followed");
  f.followMe.set(caro, false);
  assert.deepEqual(followMe(ben).at(-1), { type: 'follow-me' });
  assert.equal(f.followMe.of(r), undefined);

  // the leader leaves: it ends; someone else leaving changes nothing
  f.followMe.set(ana, true);
  const before = followMe(ben).length;
  r.members.delete(dani.id);
  f.followMe.afterLeave(r, dani, false);
  assert.equal(followMe(ben).length, before);
  r.members.delete(ana.id);
  f.followMe.afterLeave(r, ana, false);
  assert.deepEqual(followMe(ben).at(-1), { type: 'follow-me' });
  assert.equal(f.followMe.of(r), undefined);
});

test('caps: switching on and off is rate-limited; a burst of layouts ends on the last one', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const f = new MeetingFeatures(new MemoryBus(), log);
    const { members, followMe, errors } = room(['Ana', 'moderator'], ['Ben', 'participant']);
    const [ana, ben] = members as [Member, Member];
    for (let i = 0; i < 5; i++) f.followMe.set(ana, i % 2 === 0);
    f.followMe.set(ana, false);
    assert.equal(errors(ana).at(-1)?.code, 'rate-limited');
    f.followMe.set(ana, true);
    mock.timers.tick(2000);
    f.followMe.set(ana, true);
    assert.equal(followMe(ben).at(-1)?.leader, ana.id);

    const sent = followMe(ben).length;
    const pins = Array.from({ length: 30 }, (_, i) => `p${i}`);
    for (const p of pins) f.followMe.layout(ana, { view: 'speaker', pinned: p });
    const now = followMe(ben).length - sent;
    assert.ok(now >= 1 && now <= 10, `the burst at once, no more (${now})`);
    mock.timers.tick(10_000);
    assert.deepEqual(followMe(ben).at(-1)?.layout, { view: 'speaker', pinned: 'p29' }, 'the last layout arrives');
    assert.ok(followMe(ben).length - sent <= 12, 'the waiting ones merged');
  } finally {
    mock.timers.reset();
  }
});

test('turned on with the layout the moderator shows; a leader whose connection dropped has a grace to come back', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const f = new MeetingFeatures(new MemoryBus(), log);
    const { room: r, members, followMe } = room(['Ana', 'moderator'], ['Ben', 'participant']);
    const [ana, ben] = members as [Member, Member];
    f.followMe.set(ana, true, { view: 'speaker', pinned: ben.id });
    assert.deepEqual(followMe(ben).at(-1), { type: 'follow-me', leader: ana.id, layout: { view: 'speaker', pinned: ben.id } });
    // dropped, back within the grace: still leading
    r.members.delete(ana.id);
    f.followMe.afterLeave(r, ana, true);
    mock.timers.tick(RETURN_GRACE_MS / 2);
    r.members.set(ana.id, ana);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(r)?.leader, ana.id);
    // dropped, back, dropped again: the grace counts from the last drop
    r.members.delete(ana.id);
    f.followMe.afterLeave(r, ana, true);
    mock.timers.tick(1000);
    r.members.set(ana.id, ana);
    mock.timers.tick(16_000);
    r.members.delete(ana.id);
    f.followMe.afterLeave(r, ana, true);
    mock.timers.tick(RETURN_GRACE_MS - 2000);
    assert.equal(f.followMe.of(r)?.leader, ana.id, 'not ended by the first drop timer');
    r.members.set(ana.id, ana);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(r)?.leader, ana.id);
    // dropped and not back: it ends after the grace
    r.members.delete(ana.id);
    f.followMe.afterLeave(r, ana, true);
    mock.timers.tick(RETURN_GRACE_MS - 1);
    assert.equal(f.followMe.of(r)?.leader, ana.id);
    mock.timers.tick(1);
    assert.equal(f.followMe.of(r), undefined);
    assert.deepEqual(followMe(ben).at(-1), { type: 'follow-me' });
  } finally {
    mock.timers.reset();
  }
});

test("a leader's grace ends on the room as it is now: one that closed and opened again with the leader back keeps it; none here, nothing", () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const f = new MeetingFeatures(new MemoryBus(), log);
    const { room: r, members, followMe } = room(['Ana', 'moderator'], ['Ben', 'participant']);
    const [ana, ben] = members as [Member, Member];
    const live = new Map<string, Room>([[r.key, r]]);
    f.followMe.liveRoom = (key) => live.get(key);
    f.followMe.set(ana, true);
    // Ana drops; the room here closes and opens again (a new Room object) as she comes back into it
    r.members.delete(ana.id);
    f.followMe.afterLeave(r, ana, true);
    const again = { ...r, members: new Map([[ana.id, ana]]) } as Room;
    live.set(r.key, again);
    const carried = f.followMe.of(r);
    void f.items.change(again, 'follow-me', () => carried);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(again)?.leader, ana.id, 'not ended by the old room');
    assert.equal(followMe(ben).at(-1)?.leader, ana.id, 'nobody told it ended');
    // she drops again and this instance has no room under the key any more: the instances with members decide
    again.members.delete(ana.id);
    f.followMe.afterLeave(again, ana, true);
    live.delete(r.key);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(again)?.leader, ana.id);
    assert.equal(followMe(ben).at(-1)?.leader, ana.id);
  } finally {
    mock.timers.reset();
  }
});

test("a joiner finds a leader nobody has in the room (its grace ran out where nobody was left): the grace starts again there", async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const f = new MeetingFeatures(new MemoryBus(), log);
    const first = room(['Ana', 'moderator']);
    const [ana] = first.members as [Member];
    const live = new Map<string, Room>([[first.room.key, first.room]]);
    f.followMe.liveRoom = (key) => live.get(key);
    f.followMe.set(ana, true);
    // Ana, the last one in, drops: the room closes here, its items are kept for people coming back
    first.room.members.delete(ana.id);
    live.delete(first.room.key);
    f.followMe.afterLeave(first.room, ana, true);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(first.room)?.leader, ana.id, 'nobody here to end it');
    // Ben opens the room again (a new Room, which reads the stored items): told, and Ana's grace starts again
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // the store took the change
    const second = room(['Ben', 'participant']);
    const [ben] = second.members as [Member];
    live.set(second.room.key, second.room);
    await f.items.load(second.room);
    f.followMe.afterJoin(ben.session);
    assert.equal(second.followMe(ben).at(-1)?.leader, ana.id);
    mock.timers.tick(RETURN_GRACE_MS - 1);
    assert.equal(f.followMe.of(second.room)?.leader, ana.id);
    mock.timers.tick(1);
    assert.equal(f.followMe.of(second.room), undefined, 'ended: she did not come back');
    assert.deepEqual(second.followMe(ben).at(-1), { type: 'follow-me' });

    // the same, with the leader back in time: it goes on
    const third = room(['Caro', 'moderator'], ['Dani', 'participant']);
    third.room.key = 'otra';
    const [caro, dani] = third.members as [Member, Member];
    live.set(third.room.key, third.room);
    f.followMe.set(caro, true);
    third.room.members.delete(caro.id);
    f.followMe.afterLeave(third.room, caro, true);
    f.followMe.afterJoin(dani.session);
    third.room.members.set(caro.id, caro);
    mock.timers.tick(RETURN_GRACE_MS);
    assert.equal(f.followMe.of(third.room)?.leader, caro.id, 'back within the grace');
  } finally {
    mock.timers.reset();
  }
});

test('through the WebSocket server: refused for participants, told to a joiner, ended when the leader leaves', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Seguidme', 'Ana');
    await ben.join('Seguidme', 'Ben');
    assert.equal((await ben.expectError({ type: 'set-follow-me', enabled: true })).code, 'not-moderator');
    await ana.send({ type: 'set-follow-me', enabled: true });
    const on = await ben.nextOfType('follow-me');
    assert.equal(typeof on.leader, 'string');
    await ana.send({ type: 'follow-me-layout', layout: { view: 'speaker', pinned: on.leader } });
    assert.deepEqual((await ben.nextOfType('follow-me')).layout, { view: 'speaker', pinned: on.leader });
    assert.equal((await ana.expectError({ type: 'follow-me-layout', layout: { view: 'nope', pinned: null } })).code, 'bad-message');
    const caro = s.client();
    await caro.join('Seguidme', 'Caro');
    assert.deepEqual(await caro.nextOfType('follow-me'), { type: 'follow-me', leader: on.leader, layout: { view: 'speaker', pinned: on.leader } });
    await ana.send({ type: 'leave' });
    assert.deepEqual(await caro.nextOfType('follow-me'), { type: 'follow-me' });
  } finally {
    await s.stop();
  }
});
