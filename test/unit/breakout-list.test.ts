// The breakout list's changes as the store runs them (breakout-list.ts over MemoryKeyValue, the same
// compare-and-set contract as JetStream's): a change that only touches rooms or seats, landing after another
// instance ended the meeting and deleted the list (a move's seat written late on a loaded machine), leaves it
// deleted, so the next meeting of that name starts without breakout rooms; adding a room or allowing choice
// makes a list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKeyValue } from '../../src/bus/key-value.ts';
import type { Json } from '../../src/bus/bus.ts';
import { addRoom, allowChoice, breakoutListSchema, closeRoom, renameRoom, reseat, useTicket, type BreakoutList } from '../../src/signal/breakout-list.ts';

const KEY = 'item.breakouts.test';
const TICKET = 'abcdefghijklmnop1234';

/** Runs `change` as shared-room-items.ts does: on the stored value, parsed with the list's schema. */
async function apply(store: MemoryKeyValue, change: (old: BreakoutList | undefined) => BreakoutList | undefined): Promise<void> {
  await store.update(KEY, (old) => {
    const parsed = breakoutListSchema.safeParse(old);
    return change(parsed.success ? parsed.data : undefined) as Json | undefined;
  });
}

const stored = async (store: MemoryKeyValue) => (await store.get(KEY))?.value;

test('seat and room changes after the list was deleted leave it deleted', async () => {
  const store = new MemoryKeyValue({ ttlSeconds: 0, maxValueBytes: 64 * 1024 });
  await apply(store, addRoom('Uno', 'BR-abcdefghijkl'));
  await apply(store, reseat('p1', { participantId: 'p1', roomId: '1', ticket: TICKET }));
  assert.equal((breakoutListSchema.parse(await stored(store))).seats.length, 1);

  // the meeting ends on one instance: the list goes
  await apply(store, () => undefined);
  // the other instance's late writes: a seat, a used ticket, a rename, a close
  await apply(store, reseat('p1', { participantId: 'p2', roomId: '1', ticket: TICKET }));
  await apply(store, reseat('p1', null));
  await apply(store, useTicket(TICKET));
  await apply(store, renameRoom('1', 'Dos'));
  await apply(store, closeRoom('1', true));
  assert.equal(await stored(store), undefined, 'still no list');
});

test('adding a room or allowing choice makes the list; seat changes keep it', async () => {
  const store = new MemoryKeyValue({ ttlSeconds: 0, maxValueBytes: 64 * 1024 });
  await apply(store, allowChoice(true));
  assert.deepEqual(await stored(store), { rooms: [], participantsCanChoose: true, next: 1, seats: [] });
  await apply(store, addRoom('Uno', 'BR-abcdefghijkl'));
  await apply(store, reseat('p1', { participantId: 'p1', roomId: '1', ticket: TICKET }));
  await apply(store, closeRoom('1', false));
  const list = breakoutListSchema.parse(await stored(store));
  assert.deepEqual(list.rooms.map((r) => r.name), ['Uno']);
  assert.deepEqual(list.seats, [], "a closed room's seats go");
});
