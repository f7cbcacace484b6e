// The web app's notices about our microphone: talk-while-muted (src/web/media/talk-while-muted.ts: speech, not a
// click or a beep, heard on a muted microphone shows it once per mute; unmuting hides it; nothing is read while
// unmuted or after it) and the silent microphone (src/web/media/silent-microphone.ts).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { LOUD_DB, NOTICE_MS, SpeechDetector, SPEECH_READINGS, TalkWhileMuted, WINDOW_READINGS, type MicrophoneSource } from '../../src/web/media/talk-while-muted.ts';
import { Store } from '../../src/web/media/store.ts';
import { SILENT_DB, SILENT_READINGS, SilentMicrophone } from '../../src/web/media/silent-microphone.ts';

const SPEECH = LOUD_DB + 15;
const QUIET = LOUD_DB - 20;

test('speech is most of the last readings loud; a click, a cough or beeps twice a second are not', () => {
  const d = new SpeechDetector();
  // Chromium's fake microphone: a 20 ms beep twice a second, one loud reading in five, for ten seconds
  for (let i = 0; i < 100; i++) assert.equal(d.feed(i % 5 === 0 ? SPEECH : QUIET), false, `beep reading ${i}`);
  // a cough: three loud readings
  for (let i = 0; i < 3; i++) assert.equal(d.feed(SPEECH), false);
  for (let i = 0; i < WINDOW_READINGS; i++) d.feed(QUIET);
  // speech with a short gap: heard at the SPEECH_READINGS-th loud reading of the window
  const said = [SPEECH, SPEECH, QUIET, SPEECH, SPEECH, SPEECH];
  const heard = said.map((db) => d.feed(db));
  assert.deepEqual(heard, [false, false, false, false, false, true]);
  assert.equal(SPEECH_READINGS, 5);
  d.reset();
  assert.equal(d.feed(SPEECH), false, 'reset forgets');
  // exactly the threshold is loud
  const e = new SpeechDetector();
  let last = false;
  for (let i = 0; i < SPEECH_READINGS; i++) last = e.feed(LOUD_DB);
  assert.equal(last, true);
});

class FakeMic extends Store<{ audioMuted: boolean; micTrack: MediaStreamTrack | null }> implements MicrophoneSource {
  set(patch: Partial<{ audioMuted: boolean; micTrack: MediaStreamTrack | null }>): void {
    this.update(patch);
  }
}

const track = (id: string, readyState: 'live' | 'ended' = 'live') => ({ id, readyState }) as unknown as MediaStreamTrack;

/** A level source the test drives: which track is listened to, and its readings. */
function listener() {
  const live = new Map<MediaStreamTrack, (db: number) => void>();
  let starts = 0;
  return {
    listen: (t: MediaStreamTrack, onLevel: (db: number) => void) => {
      starts++;
      live.set(t, onLevel);
      return () => live.delete(t);
    },
    say: (t: MediaStreamTrack, db: number, n: number) => {
      for (let i = 0; i < n; i++) live.get(t)?.(db);
    },
    listening: () => [...live.keys()].map((t) => t.id),
    starts: () => starts,
  };
}

test('once per mute: heard speech shows the notice and stops listening; unmuting hides it, the next mute listens again', () => {
  const mic = new FakeMic({ audioMuted: false, micTrack: track('m1') });
  const l = listener();
  const w = new TalkWhileMuted(mic, l.listen);
  assert.deepEqual(l.listening(), [], 'nothing read while unmuted');
  mic.set({ audioMuted: true });
  assert.deepEqual(l.listening(), ['m1']);
  l.say(mic.state.micTrack!, QUIET, 20);
  assert.equal(w.state.notice, false, 'silence says nothing');
  l.say(mic.state.micTrack!, SPEECH, SPEECH_READINGS);
  assert.equal(w.state.notice, true);
  assert.deepEqual(l.listening(), [], 'nothing read after the notice');
  // a re-render of the same state does not listen again in this mute
  mic.set({ audioMuted: true });
  assert.deepEqual(l.listening(), []);
  w.dismiss();
  assert.equal(w.state.notice, false);
  mic.set({ audioMuted: true });
  assert.deepEqual(l.listening(), [], 'dismissed: not again in this mute');

  mic.set({ audioMuted: false });
  mic.set({ audioMuted: true });
  assert.deepEqual(l.listening(), ['m1'], 'the next mute listens again');
  // what was loud before the unmute does not count in this mute
  l.say(mic.state.micTrack!, SPEECH, SPEECH_READINGS - 1);
  assert.equal(w.state.notice, false);
  l.say(mic.state.micTrack!, SPEECH, 1);
  assert.equal(w.state.notice, true);
  mic.set({ audioMuted: false });
  assert.equal(w.state.notice, false, 'unmuting hides it');
  w.dispose();
  mic.set({ audioMuted: true });
  assert.deepEqual(l.listening(), [], 'nothing after dispose');
});

test('a new microphone while muted is listened to instead; none, or an ended one, is not listened to', () => {
  const mic = new FakeMic({ audioMuted: true, micTrack: null });
  const l = listener();
  const w = new TalkWhileMuted(mic, l.listen);
  assert.deepEqual(l.listening(), []);
  mic.set({ micTrack: track('gone', 'ended') });
  assert.deepEqual(l.listening(), []);
  mic.set({ micTrack: track('m1') });
  assert.deepEqual(l.listening(), ['m1']);
  const before = l.starts();
  mic.set({ audioMuted: true });
  assert.equal(l.starts(), before, 'the same track is not opened again');
  mic.set({ micTrack: track('m2') });
  assert.deepEqual(l.listening(), ['m2']);
  w.dispose();
  assert.deepEqual(l.listening(), []);
});

test('the notice goes by itself after NOTICE_MS', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const mic = new FakeMic({ audioMuted: true, micTrack: track('m1') });
    const l = listener();
    const w = new TalkWhileMuted(mic, l.listen);
    l.say(mic.state.micTrack!, SPEECH, SPEECH_READINGS);
    assert.equal(w.state.notice, true);
    mock.timers.tick(NOTICE_MS - 1);
    assert.equal(w.state.notice, true);
    mock.timers.tick(1);
    assert.equal(w.state.notice, false);
    w.dispose();
  } finally {
    mock.timers.reset();
  }
});

test('a microphone turned on that gives digital silence for 5 s is said to be silent; one with any sound is not, and is no longer read', () => {
  const mic = new FakeMic({ audioMuted: true, micTrack: track('m1') });
  const l = listener();
  const s = new SilentMicrophone(mic, l.listen);
  assert.deepEqual(l.listening(), [], 'nothing read while muted');
  mic.set({ audioMuted: false });
  assert.deepEqual(l.listening(), ['m1']);
  l.say(mic.state.micTrack!, -120, SILENT_READINGS - 1);
  assert.equal(s.state.notice, false);
  l.say(mic.state.micTrack!, QUIET, 1);
  assert.equal(s.state.notice, false, 'a quiet room is not silence');
  assert.deepEqual(l.listening(), [], 'it works: no more reading');
  mic.set({ audioMuted: false });
  assert.deepEqual(l.listening(), [], 'checked once per turn-on');

  // another device: checked again; this one is silent
  mic.set({ micTrack: track('m2') });
  assert.deepEqual(l.listening(), ['m2']);
  l.say(mic.state.micTrack!, SILENT_DB, SILENT_READINGS);
  assert.equal(s.state.notice, true);
  assert.deepEqual(l.listening(), ['m2'], 'still listening, for the sound that takes it away');
  // switched on by its own key: the first sound takes the notice away, and the reading stops
  l.say(mic.state.micTrack!, QUIET, 1);
  assert.equal(s.state.notice, false);
  assert.deepEqual(l.listening(), []);
  // silent again after a mute and unmute
  mic.set({ audioMuted: true });
  mic.set({ audioMuted: false });
  l.say(mic.state.micTrack!, SILENT_DB, SILENT_READINGS);
  assert.equal(s.state.notice, true);
  // muting hides it; unmuting checks again
  mic.set({ audioMuted: true });
  assert.equal(s.state.notice, false);
  mic.set({ audioMuted: false });
  assert.deepEqual(l.listening(), ['m2']);
  l.say(mic.state.micTrack!, -120, SILENT_READINGS);
  assert.equal(s.state.notice, true);
  s.dismiss();
  assert.equal(s.state.notice, false);
  assert.deepEqual(l.listening(), [], 'dismissed: this track is not read again');
  mic.set({ audioMuted: false });
  assert.deepEqual(l.listening(), []);
  // shown again, then another microphone chosen in Settings: the notice goes, that one is checked
  mic.set({ audioMuted: true });
  mic.set({ audioMuted: false });
  l.say(mic.state.micTrack!, -120, SILENT_READINGS);
  assert.equal(s.state.notice, true);
  mic.set({ micTrack: track('m3') });
  assert.equal(s.state.notice, false);
  assert.deepEqual(l.listening(), ['m3']);
  s.dispose();
  assert.deepEqual(l.listening(), []);
});

test('while we may not unmute nothing is heard, so the one notice of the mute waits for when Unmute works', () => {
  const mic = new FakeMic({ audioMuted: true, micTrack: track('m1') });
  const l = listener();
  const w = new TalkWhileMuted(mic, l.listen);
  w.setMayUnmute(false);
  assert.deepEqual(l.listening(), [], 'nothing read while unmuting is refused');
  w.setMayUnmute(true);
  assert.deepEqual(l.listening(), ['m1']);
  l.say(mic.state.micTrack!, SPEECH, SPEECH_READINGS);
  assert.equal(w.state.notice, true);
  w.setMayUnmute(false);
  assert.equal(w.state.notice, false, 'hidden when a moderator mutes us for good');
  w.dispose();
});
