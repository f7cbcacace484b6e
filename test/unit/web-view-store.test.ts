// How the meeting is shown when screens are shared (meeting/view-store.ts): a new share takes tile view to speaker
// view, and the end of the shares brings tile view back, unless the person chose a view or pinned a tile since.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ViewStore } from '../../src/web/meeting/view-store.ts';

test('a share takes the stage; tile view comes back when the shares end', () => {
  const v = new ViewStore();
  v.screenShareStarted();
  assert.equal(v.state.view, 'speaker');
  v.screenShareStarted(); // a second share meanwhile
  v.screenSharesEnded();
  assert.equal(v.state.view, 'tile');
});

test('a view chosen, or a tile pinned, during the share stays after it', () => {
  const chose = new ViewStore();
  chose.screenShareStarted();
  chose.setView('tile');
  chose.setView('speaker');
  chose.screenSharesEnded();
  assert.equal(chose.state.view, 'speaker', 'the person went back to speaker view themselves');

  const pinned = new ViewStore();
  pinned.screenShareStarted();
  pinned.pin('ana');
  pinned.screenSharesEnded();
  assert.equal(pinned.state.view, 'speaker');

  const speaker = new ViewStore();
  speaker.setView('speaker');
  speaker.screenShareStarted();
  speaker.screenSharesEnded();
  assert.equal(speaker.state.view, 'speaker', 'it was speaker view before the share');
});
