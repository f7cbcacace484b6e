// The web app's screen-share sound (src/web/media/screen-audio.ts): mixed into the microphone's track while both
// last, one mix per pair of tracks (the same output while they stay), none left after; without a microphone the
// shared sound alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenAudio, type AudioMixer } from '../../src/web/media/screen-audio.ts';

interface FakeTrack {
  id: string;
  readyState: 'live' | 'ended';
  stopped: boolean;
  stop(): void;
}
const track = (id: string): FakeTrack => ({ id, readyState: 'live', stopped: false, stop() { this.stopped = true; this.readyState = 'ended'; } });
const asTrack = (t: FakeTrack) => t as unknown as MediaStreamTrack;

function mixers() {
  const made: Array<{ main: string; extra: string; closed: boolean; track: FakeTrack }> = [];
  const mix = (main: MediaStreamTrack, extra: MediaStreamTrack): AudioMixer => {
    const m = { main: main.id, extra: extra.id, closed: false, track: track(`mix-${main.id}+${extra.id}`) };
    made.push(m);
    return { track: asTrack(m.track), close: () => (m.closed = true) };
  };
  return { made, mix };
}

test('no shared sound: the microphone as it is; no microphone either: nothing', () => {
  const a = new ScreenAudio(mixers().mix);
  const mic = asTrack(track('mic'));
  assert.equal(a.withShared(mic), mic);
  assert.equal(a.withShared(null), null);
  assert.equal(a.live, false);
});

test('no microphone: the shared sound alone, unmixed, until it ends', () => {
  const { made, mix } = mixers();
  const a = new ScreenAudio(mix);
  const tab = track('tab');
  a.set(asTrack(tab));
  assert.equal(a.live, true);
  assert.equal(a.withShared(null), asTrack(tab));
  assert.equal(made.length, 0, 'nothing to mix');
  tab.readyState = 'ended';
  assert.equal(a.live, false);
  assert.equal(a.withShared(null), null);
});

test('the shared sound is mixed in, one mix per pair, closed when either changes or the share ends', () => {
  const { made, mix } = mixers();
  const a = new ScreenAudio(mix);
  const tab = track('tab');
  a.set(asTrack(tab));
  const mic = asTrack(track('mic'));
  const sent = a.withShared(mic)!;
  assert.equal(sent.id, 'mix-mic+tab');
  assert.equal(a.withShared(mic), sent, 'the same output while the tracks stay');
  assert.equal(made.length, 1);
  assert.equal(a.withShared(mic), sent);

  // noise suppression turned on: another microphone track, another mix, the old one closed
  const suppressed = asTrack(track('mic-ns'));
  assert.equal(a.withShared(suppressed)!.id, 'mix-mic-ns+tab');
  assert.deepEqual(made.map((m) => m.closed), [true, false]);

  // the share ends: its sound stopped, the mix closed, the microphone alone again
  a.close();
  assert.equal(tab.stopped, true);
  assert.deepEqual(made.map((m) => m.closed), [true, true]);
  assert.equal(a.withShared(suppressed), suppressed);
  assert.equal(a.shared, null);
});

test('a shared sound that ended, or a browser without WebAudio, leaves the microphone alone', () => {
  const a = new ScreenAudio(() => null);
  a.set(asTrack(track('tab')));
  const mic = asTrack(track('mic'));
  assert.equal(a.withShared(mic), mic, 'no mixer');
  const { mix } = mixers();
  const b = new ScreenAudio(mix);
  const tab = track('tab');
  b.set(asTrack(tab));
  tab.readyState = 'ended';
  assert.equal(b.withShared(mic), mic);
});
