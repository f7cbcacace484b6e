// The web app tells the person when audio and video could not connect (docs/dtls.md: a browser that only
// speaks DTLS 1.3 gets ICE but never DTLS): the peer connection went to 'failed', or was not connected in time;
// the notice goes away if it connects after all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaConnectionWatch, type WatchedConnection } from '../../src/web/media/connection-watch.ts';
import { dictionaries } from '../../src/web/i18n.ts';

class FakeConnection extends EventTarget implements WatchedConnection {
  connectionState: RTCPeerConnectionState = 'new';
  to(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a connection that goes to 'failed' is reported at once, and cleared if it connects after all", () => {
  const pc = new FakeConnection();
  const seen: boolean[] = [];
  const w = new MediaConnectionWatch(pc, (f) => seen.push(f), 60_000);
  pc.to('connecting');
  assert.deepEqual(seen, []);
  pc.to('failed');
  assert.deepEqual(seen, [true]);
  pc.to('connected');
  assert.deepEqual(seen, [true, false]);
  w.stop();
});

test("a connection stuck in 'connecting' is reported after the timeout; one that connected in time is not", async () => {
  const stuck = new FakeConnection();
  const seen: boolean[] = [];
  const w = new MediaConnectionWatch(stuck, (f) => seen.push(f), 50);
  stuck.to('connecting');
  await sleep(120);
  assert.deepEqual(seen, [true]);
  w.stop();

  const ok = new FakeConnection();
  const seen2: boolean[] = [];
  const w2 = new MediaConnectionWatch(ok, (f) => seen2.push(f), 50);
  ok.to('connecting');
  ok.to('connected');
  ok.to('disconnected'); // a network blip later is not "could not connect"
  await sleep(120);
  assert.deepEqual(seen2, []);
  w2.stop();
});

test('the notice exists in English and Spanish', () => {
  assert.match(dictionaries.en.mediaConnectionFailed, /Could not connect audio and video/);
  assert.match(dictionaries.es.mediaConnectionFailed, /No se pudo conectar el audio y el vídeo/);
});

test("a connection that was up and goes to 'disconnected' is reported interrupted until it is back; a first connection is not", () => {
  const pc = new FakeConnection();
  const interrupted: boolean[] = [];
  const failed: boolean[] = [];
  const w = new MediaConnectionWatch(pc, (f) => failed.push(f), 60_000, (i) => interrupted.push(i));
  pc.to('connecting');
  pc.to('disconnected'); // never up yet: not an interruption
  assert.deepEqual(interrupted, []);
  pc.to('connected');
  pc.to('disconnected');
  assert.deepEqual(interrupted, [true]);
  assert.equal(w.interrupted, true);
  pc.to('connected');
  assert.deepEqual(interrupted, [true, false]);
  pc.to('disconnected');
  pc.to('failed'); // not coming back by itself: failed, no longer "reconnecting"
  assert.deepEqual(interrupted, [true, false, true, false]);
  assert.deepEqual(failed, [true]);
  w.stop();
});

test('the interrupted notice is translated', () => {
  assert.match(dictionaries.en.mediaInterrupted, /interrupted/);
  assert.match(dictionaries.es.mediaInterrupted, /interrumpida/);
});
