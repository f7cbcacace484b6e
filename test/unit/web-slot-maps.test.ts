// The browser's slot-map rules (src/web/media/slot-maps.ts): only the newest map of the current media session is
// taken; a map of a session we left (a late one from the bridge we were moved off) or a repeated/older one is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_SLOT_MAP, slotMapReceived, slotSessionOffered } from '../../src/web/media/slot-maps.ts';
import type { RemoteSource } from '../../src/protocol/signal-messages.ts';

const on = (participantId: string): RemoteSource[] => [{ mid: '5', participantId, kind: 'video', role: 'video' }];

test('slot maps: newer versions of the current session are taken, older and repeated ones are not', () => {
  let s = slotSessionOffered(NO_SLOT_MAP, '111');
  assert.deepEqual(s.sources, [], 'a new session has nobody on its slots before its first map');
  s = slotMapReceived(s, { session: '111', version: 3, sources: on('ana') });
  assert.deepEqual(s.sources, on('ana'));
  const kept = s;
  assert.equal(slotMapReceived(s, { session: '111', version: 2, sources: on('old') }), kept, 'an older version is stale');
  assert.equal(slotMapReceived(s, { session: '111', version: 3, sources: on('again') }), kept, 'the same version again is stale');
  s = slotMapReceived(s, { session: '111', version: 4, sources: on('bea') });
  assert.deepEqual(s.sources, on('bea'));
  assert.equal(slotSessionOffered(s, '111'), s, 'another offer of the same session keeps its map');
});

test('slot maps: after a move to another bridge (a new session), a late map of the old one is dropped whatever its version', () => {
  let s = slotMapReceived(slotSessionOffered(NO_SLOT_MAP, '111'), { session: '111', version: 57, sources: on('ana') });
  s = slotSessionOffered(s, '222');
  assert.deepEqual(s, { session: '222', version: -1, sources: [] });
  const fresh = s;
  assert.equal(slotMapReceived(s, { session: '111', version: 58, sources: on('late') }), fresh, 'the old session’s map');
  s = slotMapReceived(s, { session: '222', version: 0, sources: on('bea') });
  assert.deepEqual(s, { session: '222', version: 0, sources: on('bea') }, 'the new bridge counts from its own first version');
  assert.equal(slotMapReceived(NO_SLOT_MAP, { session: '222', version: 1, sources: on('x') }), NO_SLOT_MAP, 'no map before any slot offer');
});
