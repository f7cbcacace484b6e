// A room's mix (src/sip/media/room-mixer.ts) in the gateway's own thread (mix-place.ts `LocalMixPlace`) and on a
// media thread (media-threads.ts `mixPlace`, media-worker.ts) gives the same audio: two speakers' Opus (48 kHz, as
// browsers send it) in SRTP with the room receiver's key, sent over UDP to both places at once; each listener's
// frames from both places compared sample for sample, at a room of G.711 listeners (8 kHz) and at one with an Opus
// listener (48 kHz, the G.711 ones brought down). A listener never hears its own voice; each speaker's frames carry
// its tone; packets with another key or of an unknown SSRC are dropped, not heard. A thread that dies tells its
// rooms once (their calls hang up), and later rooms are mixed in this thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { createLogger } from '../../src/log.ts';
import { AUDIO_PT } from '../../src/protocol/media-profile.ts';
import type { AudioRate } from '../../src/sip/call-audio.ts';
import { FrameClock } from '../../src/sip/media/frame-clock.ts';
import { LocalMixPlace, type MixPlace } from '../../src/sip/media/mix-place.ts';
import { createOpusEncoder } from '../../src/sip/media/opus-codec.ts';
import { MediaThreads } from '../../src/sip/media/media-threads.ts';
import { pitch, tone } from '../helpers/audio-tone.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHUNK = 6;
const CHUNKS = 3;

/** A speaker: its SSRC, its tone's SRTP packets (sender side of the room receiver's key). */
function speaker(ssrc: number, hz: number, key: Buffer): Buffer[] {
  const srtp = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16));
  const enc = createOpusEncoder(48_000, 1, 32_000);
  const wave = tone(48_000, 1, hz, 6000);
  const out: Buffer[] = [];
  const payload = Buffer.alloc(1000);
  for (let f = 0; f < CHUNK * CHUNKS; f++) {
    const n = enc.encode(wave.subarray(f * 960, (f + 1) * 960), payload);
    const rtp = Buffer.alloc(12 + n);
    rtp[0] = 0x80;
    rtp[1] = AUDIO_PT;
    rtp.writeUInt16BE(100 + f, 2);
    rtp.writeUInt32BE(f * 960, 4);
    rtp.writeUInt32BE(ssrc, 8);
    payload.copy(rtp, 12, 0, n);
    const protectedPacket = Buffer.alloc(rtp.length + 16);
    const len = srtp.protectRtp(rtp, rtp.length, protectedPacket);
    out.push(protectedPacket.subarray(0, len));
  }
  enc.close();
  return out;
}

/** Non-silent frames each listener got, in order (a zero frame: nobody it hears had audio that tick). */
type Heard = Map<number, Int16Array[]>;
function collector(): { heard: Heard; emit: (id: number, frame: Int16Array) => void } {
  const heard: Heard = new Map();
  return {
    heard,
    emit(id, frame) {
      if (!frame.some((s) => s !== 0)) return;
      let list = heard.get(id);
      if (!list) heard.set(id, (list = []));
      list.push(frame.slice());
    },
  };
}

const count = (h: Heard, id: number) => h.get(id)?.length ?? 0;

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await sleep(20);
  assert.ok(ok(), what);
}

for (const opusListener of [false, true]) {
  test(`a room mixed on a media thread sounds as one mixed in this thread (${opusListener ? 'an Opus listener: 48 kHz' : 'G.711 listeners: 8 kHz'})`, async () => {
    const key = randomBytes(30);
    const s1 = { ssrc: 0x1111, id: 'p1', hz: 440, packets: [] as Buffer[] };
    const s2 = { ssrc: 0x2222, id: 'p2', hz: 700, packets: [] as Buffer[] };
    s1.packets = speaker(s1.ssrc, s1.hz, key);
    s2.packets = speaker(s2.ssrc, s2.hz, key);
    const stranger = speaker(0x3333, 1000, key); // not a source of the room
    const wrongKey = speaker(s1.ssrc, 1000, randomBytes(30)); // someone else's key

    const local = collector();
    const remote = collector();
    const clock = new FrameClock();
    const pool = new MediaThreads(1, createLogger('silent'), { mixRooms: true });
    let failed = 0;
    const places: MixPlace[] = [];
    const sender = dgram.createSocket('udp4');
    try {
      places.push(await LocalMixPlace.open('127.0.0.1', clock, local.emit));
      const onThread = pool.mixPlace('room-a', '127.0.0.1', remote.emit, () => failed++);
      assert.ok(onThread, 'the pool mixes on a thread');
      places.push(await onThread);
      assert.equal(pool.threadCount, 1);
      const listeners: Array<[number, string, AudioRate]> = [
        [1, s1.id, 8000], // hears p2 only
        [2, s2.id, 8000], // hears p1 only
        [3, 'caller', opusListener ? 48_000 : 8000], // hears both
      ];
      for (const p of places) {
        p.setKey(key.toString('base64'));
        p.setSources([[s1.ssrc, s1.id], [s2.ssrc, s2.id]]);
        for (const [id, who, rate] of listeners) p.listen(id, who, rate);
      }
      await sleep(100); // the thread's messages are in before the packets
      const sendAll = async (packets: Buffer[]) => {
        for (const p of packets) for (const place of places) sender.send(p, place.port, '127.0.0.1');
        await sleep(5);
      };
      await sendAll([...stranger.slice(0, 3), ...wrongKey.slice(0, 3)]);
      // one speaker at a time, CHUNK frames at once (the queue holds them), until both places gave them all; then
      // a few silent ticks (a 48 kHz room's downsampler rings out to the same state in both)
      for (let c = 0; c < CHUNKS; c++) {
        for (const s of [s1, s2]) {
          const hearer = s === s1 ? 2 : 1;
          const before = [count(local.heard, hearer), count(remote.heard, hearer), count(local.heard, 3), count(remote.heard, 3)];
          await sendAll(s.packets.slice(c * CHUNK, (c + 1) * CHUNK));
          await until(`both places gave ${s.id}'s chunk ${c}`, () =>
            [count(local.heard, hearer), count(remote.heard, hearer), count(local.heard, 3), count(remote.heard, 3)].every((n, i) => n >= before[i]! + CHUNK),
          );
          await sleep(150);
        }
      }
      for (const [id, , rate] of listeners) {
        const a = local.heard.get(id) ?? [];
        const b = remote.heard.get(id) ?? [];
        const frames = id === 3 ? 2 * CHUNK * CHUNKS : CHUNK * CHUNKS;
        // at 8 kHz in a 48 kHz room the downsampler's ring-out adds a quiet frame after each chunk
        assert.ok(a.length >= frames && a.length <= frames + 2 * CHUNKS, `listener ${id} in this thread: ${a.length} frames`);
        assert.equal(b.length, a.length, `listener ${id} on the thread: ${b.length} frames`);
        for (let i = 0; i < a.length; i++) {
          assert.equal(a[i]!.length, rate / 50, 'at the listener rate');
          assert.deepEqual(b[i], a[i], `listener ${id}, frame ${i}: the same samples`);
        }
      }
      // a listener hears the other speaker's tone, never its own; the stranger and the wrong key are not heard
      const joined = (frames: Int16Array[]) => {
        const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of frames) out.set(f, (at += f.length) - f.length);
        return out;
      };
      assert.ok(Math.abs(pitch(joined(local.heard.get(1)!.slice(1, CHUNK)), 8000) - s2.hz) < 30, 'p1 hears p2');
      assert.ok(Math.abs(pitch(joined(local.heard.get(2)!.slice(1, CHUNK)), 8000) - s1.hz) < 30, 'p2 hears p1');
      assert.equal(failed, 0);
    } finally {
      sender.close();
      for (const p of places) p.close();
      await pool.close();
    }
  });
}

test("a media thread that dies: its rooms are told (their calls hang up); a new room is mixed in this thread", async () => {
  const voicesOnly = new MediaThreads(1, createLogger('silent'));
  assert.equal(voicesOnly.mixPlace('room-b', '127.0.0.1', () => {}, () => {}), null, 'sipMixOnThreads off: rooms mixed in this thread');
  assert.equal(voicesOnly.threadCount, 0);
  const pool = new MediaThreads(1, createLogger('silent'), { mixRooms: true });
  let failed = 0;
  try {
    const place = await pool.mixPlace('room-b', '127.0.0.1', () => {}, () => failed++);
    assert.ok(place && place.port > 0);
    await (pool as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker.terminate();
    await until('the room to be told', () => failed === 1);
    assert.equal(pool.mixPlace('room-b', '127.0.0.1', () => {}, () => failed++), null, 'no thread: mixed here');
    place.close(); // nothing to close there any more: no error
    await sleep(50);
    assert.equal(failed, 1, 'told once');
  } finally {
    await pool.close();
  }
});
