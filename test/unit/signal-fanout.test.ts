// Two signal instances over a real nats-server with JetStream (room-fanout.ts, room-state.ts), each with its own
// WebSocket port, and a fake focus on a third connection: members of one room on different instances see each
// other join, chat, change and leave (each message once); a participant whose socket dropped comes back through
// the other instance as itself, with the chat; the people of an instance that goes silent are dropped; the
// room's subject, polls and recording indicator (shared room items) are seen on every instance, a vote on one
// counts on the other, and they outlive the instance they arose on.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.ts';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import type { NatsBus } from '../../src/bus/nats-bus.ts';
import type { WsClient } from '../helpers/signal-client.ts';
import { keptLog } from '../helpers/kept-log.ts';
import { participantsOn, SignalInstances, storedItem, until, type SignalInstance as Instance } from '../helpers/signal-instances.ts';

// the instances' warnings are printed when a test fails (TERTULIA_TEST_LOG_LEVEL: everything, as it comes)
const kept = keptLog('warn');
const log = process.env.TERTULIA_TEST_LOG_LEVEL ? createLogger(process.env.TERTULIA_TEST_LOG_LEVEL) : kept.log;

describe('signal instances share rooms over NATS', () => {
  const all = new SignalInstances(log);
  const instances = all.instances;
  let focusBus: NatsBus;
  const startInstance = (name: string) => all.add(name);

  before(async () => {
    await all.start();
    focusBus = all.focusBus;
    await startInstance('one');
    await startInstance('two');
  });

  afterEach((t) => {
    if (!t.passed) process.stderr.write(`the instances' warnings during "${t.name}":\n${kept.lines.join('') || '(none)\n'}`);
    kept.lines.length = 0;
    all.dropClients();
  });

  after(() => all.stop());

  test('members on two instances see each other, their chat and changes, once each', async () => {
    const [one, two] = instances as [Instance, Instance];
    const ana = one.client();
    const ja = await ana.join('Puente', 'Ana');
    await participantsOn(two, 1);
    const ben = two.client();
    const jb = await ben.join('Puente', 'Ben');
    assert.deepEqual(jb.participants.map((p: any) => [p.id, p.displayName]), [[ja.selfId, 'Ana']]);
    assert.equal(jb.role, 'participant', 'Ana, on the other instance, started the meeting');
    assert.equal((await ana.nextOfType('participant-joined')).participant.displayName, 'Ben');

    await ana.send({ type: 'chat', text: 'hola desde uno' });
    assert.equal((await ben.nextOfType('chat')).message.text, 'hola desde uno');
    await ben.send({ type: 'mute', kind: 'audio', muted: true });
    const upd = await ana.next((m) => m.type === 'participant-updated' && m.participant.id === jb.selfId);
    assert.equal(upd.participant.audioMuted, true);
    await ben.send({ type: 'hand', raised: true });
    assert.ok((await ana.next((m) => m.type === 'participant-updated' && m.participant.handRaisedAt !== undefined)).participant.handRaisedAt > 0);
    // nothing twice
    assert.ok(await ben.nothingLike((m) => m.type === 'chat'));
    assert.ok(await ana.nothingLike((m) => m.type === 'participant-joined'));

    // Ana's socket drops: Ben sees her go; she comes back through instance two, as herself, with the chat
    ana.ws.terminate();
    assert.equal((await ben.nextOfType('participant-left', 10_000)).id, ja.selfId);
    const back = two.client();
    const again = await back.join('Puente', 'Ana', { resume: ja.resumeToken });
    assert.equal(again.selfId, ja.selfId);
    assert.equal(again.role, 'moderator');
    assert.deepEqual((await back.nextOfType('chat-history')).messages.map((m: any) => m.text), ['hola desde uno']);
    assert.equal((await ben.nextOfType('participant-joined')).participant.id, ja.selfId);
    await participantsOn(one, 2);
    back.close();
    ben.close();
    await participantsOn(one, 0);
  });

  test("speaker stats: a speaker's mute on another instance stops their time here when it is heard, not at the next ask", async () => {
    const [one, two] = instances as [Instance, Instance];
    const ana = one.client();
    await ana.join('Oradores', 'Ana', { audioMuted: true });
    await participantsOn(two, 1);
    const ben = two.client();
    const jb = await ben.join('Oradores', 'Ben');
    await ana.nextOfType('participant-joined');
    focusBus.publish(subjects.bridgeDominantSpeaker, { bridgeId: 'b1', conferenceId: 'oradores', endpointId: jb.selfId });
    await ana.next((m) => m.type === 'dominant-speaker' && m.participantId === jb.selfId);
    await ben.send({ type: 'mute', kind: 'audio', muted: true });
    await ana.next((m) => m.type === 'participant-updated' && m.participant.id === jb.selfId && m.participant.audioMuted === true);
    const heardAt = Date.now();
    // Ana asks well after: Ben's time stopped when his mute came, not when she asked
    await new Promise((r) => setTimeout(r, 1500));
    await ana.send({ type: 'speaker-stats' });
    const stats = (await ana.nextOfType('speaker-stats')).speakers;
    const benStat = stats.find((x: any) => x.participantId === jb.selfId);
    assert.equal(benStat.speaking, undefined);
    assert.ok(benStat.speakingMs < Date.now() - heardAt, `${benStat.speakingMs} ms: counted past his mute`);
    // the bridge names Cai as she joins: whether that or her stand-in reaches instance one first, Ana learns it
    const cai = two.client();
    const caiJoined = cai.join('Oradores', 'Cai');
    const jc = await ben.next((m) => m.type === 'participant-joined' && m.participant.displayName === 'Cai');
    focusBus.publish(subjects.bridgeDominantSpeaker, { bridgeId: 'b1', conferenceId: 'oradores', endpointId: jc.participant.id });
    await caiJoined;
    assert.equal((await ana.next((m) => m.type === 'dominant-speaker', 10_000)).participantId, jc.participant.id);
    cai.close();
    ana.close();
    ben.close();
    await participantsOn(one, 0);
  });

  test("a room's lock applies on every instance and outlives them; a moderator's grant reaches the other instance", async () => {
    const [one, two] = instances as [Instance, Instance];
    const mod = one.client();
    await mod.join('Cerrada', 'Mod');
    await mod.send({ type: 'lock-room', password: 'clave-123' });
    await mod.nextOfType('room-state');
    await participantsOn(two, 1);
    const guest = two.client();
    const refused = await guest.tryJoin('Cerrada', 'Guest');
    assert.equal(refused.code, 'password-required');
    const jg = await guest.join('Cerrada', 'Guest', { password: 'clave-123' });
    await mod.nextOfType('participant-joined');
    await mod.send({ type: 'grant-moderator', target: jg.selfId });
    const state = await guest.next((m) => m.type === 'room-state' && m.password !== undefined);
    assert.equal(state.password, 'clave-123', 'a moderator now (told by its own instance)');
    const upd = await mod.next((m) => m.type === 'participant-updated' && m.participant.id === jg.selfId);
    assert.equal(upd.participant.role, 'moderator');
    // everyone's connection drops: a third instance that takes the room over still has it locked
    mod.ws.terminate();
    guest.ws.terminate();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    const three = await startInstance('three-lock');
    const late = three.client();
    // nobody is in, but the lock is kept for the people who dropped: a newcomer still needs the password
    assert.equal((await late.tryJoin('Cerrada', 'Late')).code, 'password-required', 'the stored lock holds for a newcomer');
    assert.equal((await late.tryJoin('Cerrada', 'Late', { password: 'clave-123' })).type, 'joined', 'the password starts the room');
    assert.ok(await late.next((m) => m.type === 'room-state' && m.locked === true), 'with its stored lock');
    late.close();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    await three.server.close();
    await three.bus.close();
    instances.pop();
  });

  test('a moderator removes someone on the other instance; a silent instance loses its people', async () => {
    const [one, two] = instances as [Instance, Instance];
    const mod = one.client();
    await mod.join('Quitar', 'Mod');
    await participantsOn(two, 1);
    const guest = two.client();
    const jg = await guest.join('Quitar', 'Guest');
    await mod.nextOfType('participant-joined');
    await mod.send({ type: 'remove-participant', target: jg.selfId });
    assert.equal((await guest.nextOfType('removed')).type, 'removed');
    assert.equal((await mod.nextOfType('participant-left')).id, jg.selfId);
    await participantsOn(two, 1);
    await participantsOn(one, 1);

    // a third instance whose process "dies" (its NATS connection cut, nothing said)
    const three = await startInstance('three');
    const caro = three.client();
    const jc = await caro.join('Quitar', 'Caro');
    assert.equal((await mod.nextOfType('participant-joined')).participant.id, jc.selfId);
    await three.bus.close();
    assert.equal((await mod.nextOfType('participant-left', 20_000)).id, jc.selfId);
    mod.close();
  });
  test('the subject, polls and recording indicator are seen on every instance and outlive the one they arose on', async () => {
    const [one, two] = instances as [Instance, Instance];
    const stops: string[] = [];
    for (const kind of ['start', 'stop', 'participants'] as const) {
      focusBus.handle(recorderSubjects[kind]('rec-shared'), (payload: any) => {
        if (kind === 'stop') stops.push(payload.recordingId);
        return kind === 'participants' ? { ok: true } : { file: 'temas.mkv' };
      });
    }
    const three = await startInstance('three-items');
    const mod = three.client();
    const modJoined = Date.now();
    await mod.join('Temas', 'Mod');
    await mod.send({ type: 'set-subject', subject: 'Plan del trimestre' });
    await mod.nextOfType('subject', 20_000);
    await mod.send({ type: 'set-follow-me', enabled: true });
    const leader = (await mod.nextOfType('follow-me', 20_000)).leader;
    await mod.send({ type: 'create-poll', question: '¿Viernes?', options: ['Sí', 'No'], key: 'm'.repeat(22) });
    const pollId = (await mod.nextOfType('poll', 20_000)).poll.id;
    // the recorder's announcement may reach instance three after its start: ask until it is free there
    const startRecording = async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        focusBus.publish(recorderSubjects.announce, { recorderId: 'rec-shared', free: 2, max: 2, instance: 'rec' });
        await new Promise((r) => setTimeout(r, 200));
        await mod.send({ type: 'start-recording' });
        const m = await mod.next((x) => (x.type === 'recording' && x.active) || x.type === 'error');
        if (m.type === 'recording') return;
        // not-allowed: "being recorded already", until three has read that it was stopped elsewhere
        assert.ok(['recording-unavailable', 'not-allowed'].includes(m.code), m.code);
        if (Date.now() > deadline) throw new Error(`no recording could start: ${m.message}`);
      }
    };
    await startRecording();
    await participantsOn(one, 1);

    // a joiner on another instance is told all three, and its vote counts for the one who made the poll
    const guest = one.client();
    const joinAsked = Date.now();
    const jg = await guest.join('Temas', 'Guest');
    // the meeting's time runs from its start on instance three, not from the room made on one just now
    const clock = await guest.nextOfType('meeting-clock', 20_000);
    assert.ok(clock.elapsedMs >= joinAsked - modJoined - 100, `elapsed ${clock.elapsedMs} ms, ${joinAsked - modJoined} since the meeting started`);
    assert.equal((await guest.nextOfType('subject', 20_000)).subject, 'Plan del trimestre');
    assert.deepEqual((await guest.nextOfType('polls', 20_000)).polls.map((p: any) => p.question), ['¿Viernes?']);
    assert.equal((await guest.nextOfType('recording', 20_000)).active, true);
    // follow me too, and the leader's layouts from instance three reach the guest on one
    assert.deepEqual(await guest.nextOfType('follow-me', 20_000), { type: 'follow-me', leader, layout: { view: 'tile', pinned: null } });
    await mod.send({ type: 'follow-me-layout', layout: { view: 'speaker', pinned: leader } });
    assert.deepEqual((await guest.nextOfType('follow-me', 20_000)).layout, { view: 'speaker', pinned: leader });
    await guest.send({ type: 'answer-poll', pollId, option: 0, key: 'g'.repeat(22) });
    assert.equal((await guest.nextOfType('poll', 20_000)).poll.options[0].votes, 1);
    assert.equal((await mod.next((m) => m.type === 'poll' && m.poll.voters === 1, 20_000)).poll.options[0].votes, 1);

    await mod.send({ type: 'grant-moderator', target: jg.selfId });
    await guest.next((m) => m.type === 'participant-updated' && m.participant.id === jg.selfId && m.participant.role === 'moderator', 20_000);

    // stopped from instance one while three lives: three lets go of the job (a new start there is not "already")
    await guest.send({ type: 'stop-recording' });
    await mod.next((m) => m.type === 'recording' && m.active === false, 20_000);
    await until(() => stops.length === 1, 'the recorder was asked to stop');
    await startRecording();
    await guest.next((m) => m.type === 'recording' && m.active === true, 20_000);

    // instance three dies (its NATS connection cut, nothing said) once the recording it started is stored (the
    // flag reached the others over the bus before the store took it): a late joiner on instance two still sees them
    await until(async () => ((await storedItem(focusBus, 'recording', 'Temas')) as { recorderId?: string } | undefined)?.recorderId === 'rec-shared', 'the recording stored');
    await three.bus.close();
    await participantsOn(one, 1);
    const late = two.client();
    const lateAsked = Date.now();
    await late.join('Temas', 'Late');
    assert.ok((await late.nextOfType('meeting-clock', 20_000)).elapsedMs >= lateAsked - modJoined - 100, 'the start outlives the instance that wrote it');
    assert.equal((await late.nextOfType('subject', 20_000)).subject, 'Plan del trimestre');
    const polls = (await late.nextOfType('polls', 20_000)).polls;
    assert.deepEqual(polls.map((p: any) => [p.question, p.voters]), [['¿Viernes?', 1]]);
    assert.equal((await late.nextOfType('recording', 20_000)).active, true);
    // a moderator on a surviving instance stops the recording the dead one started, on its recorder
    await guest.send({ type: 'stop-recording' });
    assert.equal((await late.next((m) => m.type === 'recording' && m.active === false, 20_000)).active, false);
    await until(() => stops.length === 2, 'stopped on its recorder');
    guest.close();
    late.close();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    await three.server.close().catch(() => {});
    instances.splice(instances.indexOf(three), 1);
  });

  test("lobby knocks: moderators on every instance see them and answer them where the knocker's socket is", async () => {
    const [one, two] = instances as [Instance, Instance];
    const mod = one.client();
    await mod.join('Portal', 'Mod');
    // a participant on instance two: once it is told the lobby is on, instance two has it on (the policy reaches the
    // other instances over the bus a moment after the moderator's own instance)
    const watcher = two.client();
    await watcher.join('Portal', 'Vigía');
    await mod.send({ type: 'set-lobby', enabled: true });
    await mod.next((m) => m.type === 'room-state' && m.lobby === true, 20_000);
    await watcher.next((m) => m.type === 'room-state' && m.lobby === true, 20_000);
    // a knock on instance two reaches the moderator on instance one, who admits it
    const knock = async (c: WsClient, name: string) => {
      await c.send({ type: 'join', room: 'Portal', displayName: name, audioMuted: true, videoMuted: true });
      await c.nextOfType('lobby-wait', 20_000);
    };
    const ana = two.client();
    await knock(ana, 'Ana');
    const list = await mod.next((m) => m.type === 'lobby-list' && m.knocks.some((k: any) => k.displayName === 'Ana'), 20_000);
    await mod.send({ type: 'lobby-admit', id: list.knocks.find((k: any) => k.displayName === 'Ana').id });
    const ja = await ana.nextOfType('joined', 20_000);
    assert.equal(ja.room, 'Portal');
    await mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 0, 20_000);
    // a second knock on two is denied from one; a third waits until the lobby is turned off on one
    const ben = two.client();
    await knock(ben, 'Ben');
    const l2 = await mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1, 20_000);
    await mod.send({ type: 'lobby-deny', id: l2.knocks[0].id });
    assert.equal((await ben.nextOfType('error', 20_000)).code, 'denied');
    const caro = two.client();
    await knock(caro, 'Caro');
    await mod.next((m) => m.type === 'lobby-list' && m.knocks.length === 1, 20_000);
    await mod.send({ type: 'set-lobby', enabled: false });
    assert.equal((await caro.nextOfType('joined', 20_000)).room, 'Portal', 'let in by its own instance');
    for (const c of [mod, watcher, ana, ben, caro]) c.close();
    await participantsOn(one, 0);
  });
});
