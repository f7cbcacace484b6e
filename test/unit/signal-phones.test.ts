// Phone callers in signal (src/signal/phones.ts) over real HTTPS + WebSocket, with the bus calls a SIP gateway
// makes (focus answered by the test, as in the other signal tests): the caller is in the roster as a phone with
// its masked number; moderators' mute and remove reach the gateway as events; the room's rules refuse callers
// with a reason (lobby, password, a meeting not started in accounts mode); a caller signal does not know is
// told to hang up; a caller alone has not started the meeting (the first browser moderates). A settings reload
// (authMode, allowGuests) applies to the next caller, in both directions; a reload refused changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCallError } from '../../src/bus/bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { phoneSubjects, type PhoneEvent } from '../../src/protocol/phone-messages.ts';
import { answerPlainAttach, dropConnection, startTestSignal, TEST_SRTP_KEY, type TestSignal } from '../helpers/signal-client.ts';

const KEY = TEST_SRTP_KEY;

function events(s: TestSignal, gatewayId: string): PhoneEvent[] {
  const got: PhoneEvent[] = [];
  s.bus.subscribe(phoneSubjects.event(gatewayId), (e) => got.push(e as PhoneEvent));
  return got;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), what);
}

const join = (s: TestSignal, room: string, gatewayId = 'gw-test') => callBus(s.bus, busCalls.signalPhoneJoin, '', { gatewayId, room, callerId: '+34600111234', ssrc: 1234 });

describe('phone callers in an open server', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal();
    answerPlainAttach(s);
  });
  after(() => s.stop());

  test('listed as a phone with its masked number; mute and remove reach the gateway', async () => {
    const got = events(s, 'gw-test');
    const mod = s.client();
    await mod.join('Llamada', 'Mod');
    const joined = await join(s, 'Llamada');
    assert.equal(joined.displayName, 'Phone …1234');
    assert.equal(joined.srtpKey, KEY);
    const seen = await mod.next((m) => m.type === 'participant-joined');
    assert.deepEqual({ name: seen.participant.displayName, phone: seen.participant.phone, role: seen.participant.role }, { name: 'Phone …1234', phone: true, role: 'participant' });

    await mod.send({ type: 'mute-participant', target: joined.participantId });
    await until('the muted event', () => got.some((e) => e.type === 'muted' && e.muted));
    // the caller's own *6 while unmuting is allowed
    assert.deepEqual(await callBus(s.bus, busCalls.signalPhoneMute, '', { conferenceId: joined.conferenceId, participantId: joined.participantId, muted: false }), { muted: false });
    await until('the unmuted event', () => got.some((e) => e.type === 'muted' && !e.muted));

    await mod.send({ type: 'remove-participant', target: joined.participantId });
    await until('the removed event', () => got.some((e) => e.type === 'removed' && /removed by Mod/.test(e.reason)));
    await mod.next((m) => m.type === 'participant-left' && m.id === joined.participantId);
    mod.close();
  });

  test('a caller may not unmute while a moderator turned it off; leave takes it out', async () => {
    const mod = s.client();
    await mod.join('Silencio', 'Mod');
    await mod.send({ type: 'set-self-unmute', allowed: false });
    await mod.next((m) => m.type === 'room-state' && m.selfUnmuteAllowed === false);
    const joined = await join(s, 'Silencio');
    assert.equal(joined.audioMuted, true, 'joins muted, as a browser would');
    await assert.rejects(
      callBus(s.bus, busCalls.signalPhoneMute, '', { conferenceId: joined.conferenceId, participantId: joined.participantId, muted: false }),
      (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed',
    );
    await callBus(s.bus, busCalls.signalPhoneLeave, '', { conferenceId: joined.conferenceId, participantId: joined.participantId, reason: 'hung up' });
    await mod.next((m) => m.type === 'participant-left' && m.id === joined.participantId);
    mod.close();
  });

  test('lobby and password rooms refuse callers with the reason', async () => {
    const mod = s.client();
    await mod.join('Cerrada', 'Mod');
    await mod.send({ type: 'set-lobby', enabled: true });
    await mod.next((m) => m.type === 'room-state' && m.lobby === true);
    await assert.rejects(join(s, 'Cerrada'), (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed' && /lobby/.test(e.message));
    await mod.send({ type: 'set-lobby', enabled: false });
    await mod.send({ type: 'lock-room', password: 'secreto-1' });
    await mod.next((m) => m.type === 'room-state' && m.locked && !m.lobby);
    await assert.rejects(join(s, 'Cerrada'), (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed' && /password/.test(e.message));
    mod.close();
  });

  test('a room whose people all dropped keeps its lock against callers too', async () => {
    const mod = s.client();
    await mod.join('Caida', 'Mod');
    await mod.send({ type: 'lock-room', password: 'secreto-2' });
    await mod.next((m) => m.type === 'room-state' && m.locked);
    await dropConnection(s, mod);
    await assert.rejects(join(s, 'Caida'), (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed' && /password/.test(e.message));
  });

  test('a caller alone has not started the meeting: the first browser moderates', async () => {
    const joined = await join(s, 'Primero');
    const c = s.client();
    const j = await c.join('Primero', 'Ana');
    assert.equal(j.role, 'moderator');
    assert.equal(j.participants.find((p: { id: string }) => p.id === joined.participantId)?.phone, true);
    await callBus(s.bus, busCalls.signalPhoneLeave, '', { conferenceId: joined.conferenceId, participantId: joined.participantId, reason: 'hung up' });
    c.close();
  });

  test('a caller signal does not know is told to hang up; a malformed join is refused', async () => {
    const got = events(s, 'gw-other');
    s.bus.publish(phoneSubjects.alive, { gatewayId: 'gw-other', phones: [{ conferenceId: 'nowhere', participantId: 'abcd1234' }] });
    await until('the removed event', () => got.some((e) => e.type === 'removed' && e.participantId === 'abcd1234'));
    await assert.rejects(
      callBus(s.bus, busCalls.signalPhoneJoin, '', { gatewayId: 'gw test', room: 'x', ssrc: 1 }),
      (e: unknown) => e instanceof BusCallError && e.code === 'internal' && /gateway id/.test(e.message),
    );
    await assert.rejects(s.bus.request(phoneSubjects.join, { gatewayId: 'gw', room: 'a/b', ssrc: 1 }), /room name may not contain/);
  });
});

describe('phone callers in accounts mode', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ authMode: 'accounts' });
    answerPlainAttach(s);
  });
  after(() => s.stop());

  test('a caller cannot start a meeting', async () => {
    await assert.rejects(join(s, 'Nadie'), (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed' && /has not started/.test(e.message));
  });
});

describe('phone callers after a settings reload (SIGHUP)', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal();
    answerPlainAttach(s);
  });
  after(() => s.stop());

  const refused = (why: RegExp) => (e: unknown) => e instanceof BusCallError && e.code === 'not-allowed' && why.test(e.message);
  const leave = ({ conferenceId, participantId }: { conferenceId: string; participantId: string }) => callBus(s.bus, busCalls.signalPhoneLeave, '', { conferenceId, participantId, reason: 'hung up' });
  const token = { authMode: 'token', jwtAppId: 'my-app', jwtSecret: 'a-reloaded-shared-secret-of-32-chars' } as const;

  test('open -> token: callers follow the new mode and allowGuests at once; back to open: they may start meetings again', async () => {
    await leave(await join(s, 'Antes'));
    // a meeting under way before the reload
    const mod = s.client();
    await mod.join('Empezada', 'Mod');

    s.server.reconfigure({ ...s.config, ...token, allowGuests: true });
    await assert.rejects(join(s, 'NotStarted3'), refused(/has not started/));
    assert.equal(s.server.resourceCounts()['signal.rooms'], 1, 'the caller made no room');
    await leave(await join(s, 'Empezada')); // a started meeting takes guests

    s.server.reconfigure({ ...s.config, ...token, allowGuests: false });
    await assert.rejects(join(s, 'Empezada'), refused(/only signed-in hosts and invited guests/));

    s.server.reconfigure({ ...s.config, ...token, allowGuests: true });
    await leave(await join(s, 'Empezada'));

    s.server.reconfigure(s.config); // open again
    await leave(await join(s, 'NotStarted3'));
    await leave(await join(s, 'Empezada'));
    mod.close();
  });

  test('a reload refused (token mode without a secret) changes nothing for callers either', async () => {
    s.server.reconfigure({ ...s.config, ...token, allowGuests: false });
    assert.throws(() => s.server.reconfigure({ ...s.config, authMode: 'token', jwtAppId: 'my-app', jwtSecret: '', allowGuests: true }), /needs jwtSecret/);
    await assert.rejects(join(s, 'Otra'), refused(/only signed-in hosts/));
    assert.throws(() => s.server.reconfigure({ ...s.config, authMode: 'token', jwtAppId: '', allowGuests: true }), /needs jwtAppId/);
    await assert.rejects(join(s, 'Otra'), refused(/only signed-in hosts/));
    s.server.reconfigure(s.config);
    await leave(await join(s, 'Otra'));
  });
});
