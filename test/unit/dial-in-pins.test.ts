// The rooms' dial-in PINs (src/signal/dial-in-pins.ts): stable across a reopen of the data directory, one per
// room key and unique, capped (the least recently used dropped), a damaged file recovered; and the sip part's
// lookup `signal.pin-lookup` over a real NATS server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { DialInPins, PINS_FILE } from '../../src/signal/dial-in-pins.ts';
import { serveDialIn } from '../../src/signal/dial-in-bus.ts';
import { pinLookupOverBus } from '../../src/sip/pin-lookup.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { formatPin } from '../../src/protocol/dial-in-messages.ts';
import { startNatsServer } from '../helpers/nats.ts';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tertulia-pins-'));
  dirs.push(d);
  return d;
}

test('a room keeps its PIN across a reopen; PINs are 9 digits, unique, case-insensitive by room', async () => {
  const dir = tempDir();
  const pins = new DialInPins({ dataDir: dir, log });
  const physics = pins.pinFor('Physics');
  assert.match(physics, /^[1-9]\d{8}$/);
  assert.equal(pins.pinFor('PHYSICS'), physics);
  assert.equal(pins.roomFor(physics), 'physics');
  const others = new Set([physics]);
  for (let i = 0; i < 200; i++) others.add(pins.pinFor(`room-${i}`));
  assert.equal(others.size, 201);
  assert.equal(pins.roomFor('123'), undefined);
  await pins.flush();
  assert.equal(statSync(path.join(dir, PINS_FILE)).mode & 0o777, 0o600);

  const again = new DialInPins({ dataDir: dir, log });
  assert.equal(again.size, 201);
  assert.equal(again.pinFor('physics'), physics);
  assert.equal(again.roomFor(physics), 'physics');
  assert.equal(formatPin(physics), `${physics.slice(0, 3)} ${physics.slice(3, 6)} ${physics.slice(6)}`);
});

test('past the cap the least recently used rooms lose their PINs', async () => {
  const dir = tempDir();
  const pins = new DialInPins({ dataDir: dir, log, cap: 3 });
  const a = pins.pinFor('a');
  const b = pins.pinFor('b');
  const c = pins.pinFor('c');
  assert.equal(pins.roomFor(a), 'a'); // a used last: b is now the oldest
  const d = pins.pinFor('d');
  assert.equal(pins.size, 3);
  assert.equal(pins.roomFor(b), undefined);
  assert.equal(pins.has('b'), false);
  assert.deepEqual([pins.roomFor(a), pins.roomFor(c), pins.roomFor(d)], ['a', 'c', 'd']);
  await pins.flush();
  // a smaller cap at reopen keeps the most recently used
  const reopened = new DialInPins({ dataDir: dir, log, cap: 2 });
  assert.equal(reopened.size, 2);
  assert.equal(reopened.roomFor(d), 'd');
  assert.equal(reopened.roomFor(a), undefined);
});

test('a damaged file is set aside and what can be read of it is kept', async () => {
  const dir = tempDir();
  const file = path.join(dir, PINS_FILE);
  writeFileSync(file, '{"version":1,"pins":[["ok",');
  const fromGarbage = new DialInPins({ dataDir: dir, log });
  assert.equal(fromGarbage.size, 0);
  assert.ok(existsSync(`${file}.corrupt`));
  const pin = fromGarbage.pinFor('new-room');
  await fromGarbage.flush();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { version: 1, pins: [['new-room', pin]] });

  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      pins: [['good', '123456789'], ['Upper', '223456789'], ['dup-pin', '123456789'], ['short', '12'], 'junk', ['zero', '023456789'], ['fine', '987654321']],
    }),
  );
  const partial = new DialInPins({ dataDir: dir, log });
  assert.equal(partial.size, 2);
  assert.equal(partial.roomFor('123456789'), 'good');
  assert.equal(partial.roomFor('987654321'), 'fine');
  assert.equal(partial.roomFor('223456789'), undefined);
  await partial.flush();
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).pins.length, 2);

  writeFileSync(file, JSON.stringify({ version: 7, pins: 'nope' }));
  assert.equal(new DialInPins({ dataDir: dir, log }).size, 0);
});

test('the sip part finds a room by its PIN over NATS (signal.pin-lookup)', async (t) => {
  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const signalBus = await NatsBus.connect({ url: nats.url, log, firstConnectTimeoutMs: 10_000 });
  const sipBus = await NatsBus.connect({ url: nats.url, log, firstConnectTimeoutMs: 10_000 });
  t.after(async () => {
    await signalBus.close();
    await sipBus.close();
  });
  const pins = new DialInPins({ dataDir: tempDir(), log });
  const stop = serveDialIn(signalBus, pins);
  t.after(stop);
  // the server has the handler's subscription before the other connection asks (else: nobody handles it yet)
  await signalBus.flush();
  const pin = pins.pinFor('Sala-Común');
  const lookup = pinLookupOverBus(sipBus);
  assert.equal(await lookup(pin), 'sala-común');
  assert.equal(await lookup(pin === '111111111' ? '222222222' : '111111111'), undefined);
  assert.equal(await lookup(''), undefined); // not a PIN: refused before it is sent, found nowhere
});
