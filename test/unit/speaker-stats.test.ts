// Speaker stats (src/signal/speaker-stats.ts): time as the bridge's dominant speaker, counted only while the speaker
// is in the room with the microphone on; who left stays listed; the list is capped; asking is rate-limited. First the
// arithmetic on a room of plain objects with given clocks, then through a signal server and its WebSocket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SPEAKER_STATS } from '../../src/protocol/meeting-messages.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { SpeakerStats } from '../../src/signal/speaker-stats.ts';
import type { Member, Room } from '../../src/signal/rooms.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

function fakeRoom(names: string[]): Room {
  const members = new Map<string, Member>();
  for (const n of names) members.set(n, { id: n, displayName: n.toUpperCase(), audioMuted: false } as Member);
  return { members, dominantSpeaker: undefined } as unknown as Room;
}

const timeOf = (stats: SpeakerStats, room: Room, now: number) => Object.fromEntries(stats.list(room, now).map((s) => [s.participantId, s.speakingMs]));

test('each stint counts from the bridge naming the speaker until another is named, a mute or a leave', () => {
  const stats = new SpeakerStats();
  const room = fakeRoom(['ana', 'ben', 'cai']);
  assert.deepEqual(timeOf(stats, room, 0), { ana: 0, ben: 0, cai: 0 }, 'everyone present is listed, at 0');
  room.dominantSpeaker = 'ana';
  stats.speakerChanged(room, 1000);
  const now = stats.list(room, 4000);
  assert.deepEqual(now[0], { participantId: 'ana', displayName: 'ANA', speakingMs: 3000, speaking: true }, 'the current stint counts, and is said');
  room.dominantSpeaker = 'ben';
  stats.speakerChanged(room, 5000);
  assert.deepEqual(timeOf(stats, room, 6000), { ana: 4000, ben: 1000, cai: 0 });
  // Ben mutes: his time stops though the bridge names nobody else; unmuted, it goes on
  room.members.get('ben')!.audioMuted = true;
  stats.settle(room, 7000);
  assert.deepEqual(timeOf(stats, room, 9000), { ana: 4000, ben: 2000, cai: 0 });
  assert.equal(stats.list(room, 9000).find((s) => s.participantId === 'ben')!.speaking, undefined);
  room.members.get('ben')!.audioMuted = false;
  stats.settle(room, 10_000);
  assert.deepEqual(timeOf(stats, room, 10_500), { ana: 4000, ben: 2500, cai: 0 });
  // Ben leaves while speaking: listed as gone with his time, which no longer grows
  room.members.delete('ben');
  stats.settle(room, 11_000);
  const after = stats.list(room, 20_000);
  // the people here first, then who went
  assert.deepEqual(after.map((s) => [s.participantId, s.speakingMs, s.left ?? false]), [
    ['ana', 4000, false],
    ['cai', 0, false],
    ['ben', 3000, true],
  ]);
  assert.equal(after[2]!.displayName, 'BEN', 'the name they had');
  // Ana, named again, stops talking: the bridge says she went silent, and her time stops with it
  room.dominantSpeaker = 'ana';
  stats.speakerChanged(room, 21_000);
  room.dominantSilent = true;
  stats.speakerChanged(room, 22_000);
  assert.equal(timeOf(stats, room, 30_000).ana, 5000);
  room.dominantSilent = false;
  stats.speakerChanged(room, 31_000);
  assert.equal(timeOf(stats, room, 31_500).ana, 5500);
  // someone in another room of the meeting (a breakout room) is listed so, not as gone
  stats.elsewhere = (_room, id) => id === 'ben';
  const ben = stats.list(room, 32_000).find((s) => s.participantId === 'ben')!;
  assert.equal(ben.elsewhere, true);
  assert.equal(ben.left, undefined);
});

test('many asks at once share one list for half a second, unless something happened in the room', () => {
  const stats = new SpeakerStats();
  const room = fakeRoom(['ana', 'ben']);
  room.dominantSpeaker = 'ana';
  stats.speakerChanged(room, 0);
  const first = stats.list(room, 1000);
  assert.equal(stats.list(room, 1400), first, 'the same answer');
  assert.notEqual(stats.list(room, 1500), first, 'made again after 500 ms');
  const again = stats.list(room, 1600);
  room.members.get('ana')!.audioMuted = true;
  stats.settle(room, 1700);
  const after = stats.list(room, 1800);
  assert.notEqual(after, again, 'a mute makes it again');
  assert.equal(after.find((s) => s.participantId === 'ana')!.speakingMs, 1700);
});

test('a renamed speaker who leaves keeps the name they last had', () => {
  const stats = new SpeakerStats();
  const room = fakeRoom(['ana', 'ben']);
  room.dominantSpeaker = 'ana';
  stats.speakerChanged(room, 0);
  stats.list(room, 1000);
  room.members.get('ana')!.displayName = 'Ana María';
  stats.list(room, 2000);
  room.members.delete('ana');
  stats.settle(room, 3000);
  assert.deepEqual(stats.list(room, 4000).find((s) => s.participantId === 'ana'), { participantId: 'ana', displayName: 'Ana María', speakingMs: 3000, left: true });
});

test('a room with more people present than the list holds: the most time first, nobody present loses time', () => {
  const stats = new SpeakerStats();
  const n = MAX_SPEAKER_STATS + 100;
  const room = fakeRoom(Array.from({ length: n }, (_, i) => `p${i}`));
  let t = 0;
  // p_i speaks i ms
  for (let i = 0; i < n; i++) {
    room.dominantSpeaker = `p${i}`;
    stats.speakerChanged(room, t);
    t += i;
  }
  room.dominantSpeaker = undefined;
  stats.speakerChanged(room, t);
  const list = stats.list(room, t);
  assert.equal(list.length, MAX_SPEAKER_STATS);
  assert.equal(list[0]!.participantId, `p${n - 1}`);
  assert.ok(!list.some((s) => s.participantId === 'p5'), 'p5 spoke too little to be listed');
  // p5 was not listed, yet still has its 5 ms: it speaks 1000 more and is back in the list with both
  room.dominantSpeaker = 'p5';
  stats.speakerChanged(room, t);
  assert.equal(stats.list(room, t + 1000).find((s) => s.participantId === 'p5')?.speakingMs, 1005);
});

test('the list is capped: who left with the least time is forgotten first, never the people present', () => {
  const stats = new SpeakerStats();
  const room = fakeRoom(['here']);
  let t = 0;
  // MAX + 10 people come, speak a little (the later, the longer) and go
  for (let i = 0; i < MAX_SPEAKER_STATS + 10; i++) {
    const id = `p${i}`;
    room.members.set(id, { id, displayName: id, audioMuted: false } as Member);
    room.dominantSpeaker = id;
    stats.speakerChanged(room, (t += 1));
    room.members.delete(id);
    stats.settle(room, (t += 1 + i));
  }
  const list = stats.list(room, t);
  assert.equal(list.length, MAX_SPEAKER_STATS);
  assert.ok(list.some((s) => s.participantId === 'here'), 'present, with no time');
  assert.ok(!list.some((s) => s.participantId === 'p0'), 'the shortest of who left is forgotten');
  assert.ok(list.some((s) => s.participantId === `p${MAX_SPEAKER_STATS + 9}`));
});

describe('through the signal server', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal();
  });
  after(async () => {
    await s.stop();
  });

  test('the bridge names a speaker; a participant asks and hears everyone with their time; asking too often is refused', async () => {
    const ana = s.client();
    const ben = s.client();
    const anaJoined = await ana.join('stats-room', 'Ana <b>');
    await ben.join('stats-room', 'Ben');
    await ben.send({ type: 'speaker-stats' });
    const first = await ben.nextOfType('speaker-stats');
    assert.deepEqual(first.speakers.map((x: any) => [x.displayName, x.speakingMs]).sort(), [['Ana <b>', 0], ['Ben', 0]]);
    s.bus.publish(subjects.bridgeDominantSpeaker, { bridgeId: 'b1', conferenceId: 'stats-room', endpointId: anaJoined.selfId });
    await ben.next((m) => m.type === 'dominant-speaker' && m.participantId === anaJoined.selfId);
    await new Promise((r) => setTimeout(r, 50));
    await ben.send({ type: 'speaker-stats' });
    const second = await ben.nextOfType('speaker-stats');
    assert.equal(second.speakers[0].participantId, anaJoined.selfId, 'the one who spoke first');
    assert.equal(second.speakers[0].speaking, true);
    assert.ok(second.speakers[0].speakingMs > 0);
    // Ana mutes: her time stands still
    await ana.send({ type: 'mute', kind: 'audio', muted: true });
    await ben.next((m) => m.type === 'participant-updated' && m.participant.audioMuted === true);
    await ben.send({ type: 'speaker-stats' });
    const third = (await ben.nextOfType('speaker-stats')).speakers[0];
    await new Promise((r) => setTimeout(r, 30));
    await ben.send({ type: 'speaker-stats' });
    const fourth = (await ben.nextOfType('speaker-stats')).speakers[0];
    assert.equal(third.speaking, undefined);
    assert.equal(fourth.speakingMs, third.speakingMs, 'no time while muted');
    // the bridge says Ana went silent: unmuted, she does not count until it says she speaks again
    await ana.send({ type: 'mute', kind: 'audio', muted: false });
    await ben.next((m) => m.type === 'participant-updated' && m.participant.audioMuted === false);
    s.bus.publish(subjects.bridgeDominantSpeaker, { bridgeId: 'b1', conferenceId: 'stats-room', endpointId: anaJoined.selfId, silent: true });
    await ben.send({ type: 'speaker-stats' });
    const silent = (await ben.nextOfType('speaker-stats')).speakers[0];
    assert.equal(silent.speaking, undefined, 'silent: not speaking');
    // five asks went, five may go at once (then one a second): of two more, one is refused
    for (let i = 0; i < 2; i++) await ben.send({ type: 'speaker-stats' });
    assert.equal((await ben.nextOfType('error')).code, 'rate-limited');
    ana.close();
    ben.close();
  });
});
