// The web app's follow me (src/web/meeting/follow-me-store.ts): a follower's page takes the leader's view and pin
// (also a pin kept in tile view), a repeat of the same layout does not undo the follower's own choice, a screen
// share does not switch a follower's view by itself; the leader's page sends its layout as it turns follow me on
// and at each change, once. The leader's name stays while the leader is away a moment; the pin follow me applied
// is the one a follower's page keeps without its tile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientMessage, ServerMessage } from '../../src/protocol/signal-messages.ts';
import type { Conference } from '../../src/web/media/conference.ts';
import { FollowMeStore } from '../../src/web/meeting/follow-me-store.ts';
import { ViewStore } from '../../src/web/meeting/view-store.ts';

function page(selfId: string) {
  const listeners = new Set<(m: ServerMessage) => void>();
  const watchers = new Set<() => void>();
  const sent: ClientMessage[] = [];
  const state = { selfId, participants: [] as Array<{ id: string; displayName: string }> };
  const conference = {
    state,
    onMessage: (l: (m: ServerMessage) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    subscribe: (l: () => void) => {
      watchers.add(l);
      return () => watchers.delete(l);
    },
    sendMessage: (m: ClientMessage) => sent.push(m),
  } as unknown as Conference;
  /** The room's people as the page's conference has them now. */
  const people = (list: Array<{ id: string; displayName: string }>) => {
    state.participants = list;
    for (const w of [...watchers]) w();
  };
  const view = new ViewStore();
  const store = new FollowMeStore(conference, view);
  const hear = (m: ServerMessage) => {
    for (const l of [...listeners]) l(m);
  };
  return { view, store, sent, hear, people };
}

test("the leader's name as last seen stays while the leader is away a moment; a leader never seen is unnamed", () => {
  const { store, hear, people } = page('ben');
  people([{ id: 'ana', displayName: 'Ana' }]);
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'tile', pinned: null } });
  assert.deepEqual(store.state, { leader: 'ana', leaderName: 'Ana' });
  // her connection dropped: she is not in the room for a while, follow me goes on
  people([]);
  assert.deepEqual(store.state, { leader: 'ana', leaderName: 'Ana' });
  people([{ id: 'ana', displayName: 'Ana María' }]);
  assert.equal(store.state.leaderName, 'Ana María');
  // another leader this page has not seen (away as we joined)
  hear({ type: 'follow-me', leader: 'caro', layout: { view: 'tile', pinned: null } });
  assert.deepEqual(store.state, { leader: 'caro', leaderName: null });
  hear({ type: 'follow-me' });
  assert.deepEqual(store.state, { leader: null, leaderName: null });
});

test('the pin follow me applied is known to the view (kept without its tile); our own pin is not it', () => {
  const { view, hear } = page('ben');
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'speaker', pinned: 'ana:screen' } });
  assert.equal(view.followedPin, 'ana:screen');
  view.pin('caro');
  assert.notEqual(view.state.pinned, view.followedPin, "Ben's own pin goes with Caro's tile");
  hear({ type: 'follow-me' });
  assert.equal(view.followedPin, null);
});

test("a follower takes the leader's view and pin, a pin kept in tile view too", () => {
  const { view, store, hear } = page('ben');
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'speaker', pinned: 'caro' } });
  assert.equal(store.state.leader, 'ana');
  assert.deepEqual([view.state.view, view.state.pinned], ['speaker', 'caro']);
  // Ana goes to tile view with Caro still pinned (her view store keeps the pin)
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'tile', pinned: 'caro' } });
  assert.deepEqual([view.state.view, view.state.pinned], ['tile', 'caro']);
  // and pins from tile view
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'speaker', pinned: 'ana:screen' } });
  assert.deepEqual([view.state.view, view.state.pinned], ['speaker', 'ana:screen']);
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'tile', pinned: null } });
  assert.deepEqual([view.state.view, view.state.pinned], ['tile', null]);
});

test("a repeat does not undo the follower's own choice; a screen share does not switch a follower's view", () => {
  const { view, hear } = page('ben');
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'tile', pinned: null } });
  assert.equal(view.following, true);
  view.setView('speaker');
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'tile', pinned: null } });
  assert.equal(view.state.view, 'speaker', 'the same layout again (a joiner copy) is not news');
  view.setView('tile');
  view.screenShareStarted();
  assert.equal(view.state.view, 'tile', 'the leader decides');
  // follow me ends: the page keeps its layout, and screen shares switch it again
  hear({ type: 'follow-me' });
  assert.equal(view.following, false);
  view.screenShareStarted();
  assert.equal(view.state.view, 'speaker');
});

test("the leader's page sends its layout as it turns follow me on, then each change once", () => {
  const { view, store, sent, hear } = page('ana');
  view.pin('ben');
  store.setEnabled(true);
  assert.deepEqual(sent.at(-1), { type: 'set-follow-me', enabled: true, layout: { view: 'speaker', pinned: 'ben' } });
  hear({ type: 'follow-me', leader: 'ana', layout: { view: 'speaker', pinned: 'ben' } });
  assert.equal(store.leading, true);
  assert.equal(view.following, false, 'the leader is not following');
  const before = sent.length;
  view.pin(null);
  view.setView('tile');
  view.setView('tile');
  const layouts = sent.slice(before).filter((m) => m.type === 'follow-me-layout');
  assert.deepEqual(layouts.at(-1), { type: 'follow-me-layout', layout: { view: 'tile', pinned: null } });
  assert.equal(layouts.filter((m) => m.type === 'follow-me-layout' && m.layout.view === 'tile').length, 1, 'once per change');
  // another moderator takes over: Ana follows, sends no more
  hear({ type: 'follow-me', leader: 'caro', layout: { view: 'speaker', pinned: null } });
  const n = sent.length;
  view.setView('tile');
  assert.equal(sent.length, n);
  store.setEnabled(false);
  assert.deepEqual(sent.at(-1), { type: 'set-follow-me', enabled: false });
});
