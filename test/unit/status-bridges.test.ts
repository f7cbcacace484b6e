// `tertulia status` about bridges: one that drains says so, one not heard for seconds (stopped, or out of reach)
// says how long (a user trial saw a bridge that had exited listed with its last count for 15 s, and no drain shown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { BridgeDirectory } from '../../src/bus/bridge-directory.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { serverStatusSchema } from '../../src/protocol/control-messages.ts';
import { statusText } from '../../src/cli/commands/status.ts';

test('the directory keeps whether a bridge drains', async () => {
  const bus = new MemoryBus();
  const directory = new BridgeDirectory(bus);
  bus.publish(subjects.bridgeAnnounce, { bridgeId: 'a', endpoints: 3, instance: 'i1' });
  bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b', endpoints: 1, instance: 'i2', draining: true });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(directory.list().map((b) => [b.bridgeId, b.draining]), [['a', false], ['b', true]]);
  directory.close();
  await bus.close();
});

test('status text: draining and silent bridges are marked', () => {
  const status = serverStatusSchema.parse({
    ok: true,
    version: '0.1.0',
    uptimeSeconds: 60,
    participants: 0,
    rooms: [],
    bridges: [
      { id: 'a', endpoints: 3, maxEndpoints: 500 },
      { id: 'b', endpoints: 1, maxEndpoints: 500, draining: true },
      { id: 'c', endpoints: 2, silentSeconds: 9 },
    ],
    recorders: [],
  });
  const text = statusText(status);
  assert.match(text, /^ {2}a: 3 endpoints of 500$/m);
  assert.match(text, /^ {2}b: 1 endpoints of 500 {2}\(draining: its meetings move to other bridges\)$/m);
  assert.match(text, /^ {2}c: 2 endpoints {2}\(not heard for 9 s\)$/m);
});
