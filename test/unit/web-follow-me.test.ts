// The web app's follow me (src/web/meeting/follow-me-store.ts): a follower's page takes the leader's view and pin
// (also a pin kept in tile view), a repeat of the same layout does not undo the follower's own choice, a screen
// share does not switch a follower's view by itself; the leader's page sends its layout as it turns follow me on
// and at each change, once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientMessage, ServerMessage } from '../../src/protocol/signal-messages.ts';
import type { Conference } from '../../src/web/media/conference.ts';
import { FollowMeStore } from '../../src/web/meeting/follow-me-store.ts';
import { ViewStore } from '../../src/web/meeting/view-store.ts';

function page(selfId: string) {
  const listeners = new Set<(m: ServerMessage) => void>();
  const sent: ClientMessage[] = [];
  const conference = {
    state: { selfId },
    onMessage: (l: (m: ServerMessage) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    sendMessage: (m: ClientMessage) => sent.push(m),
  } as unknown as Conference;
  const view = new ViewStore();
  const store = new FollowMeStore(conference, view);
  const hear = (m: ServerMessage) => {
    for (const l of [...listeners]) l(m);
  };
  return { view, store, sent, hear };
}

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
