// A call's voice both ways, without sockets: the encoder (src/sip/media/voice-encoder.ts) makes one RTP stream
// (marker and timestamp after a pause, the codec switched mid-stream with the same SSRC and sequence); the
// decoder (voice-decoder.ts) turns G.711 packets into 8 kHz frames of the same tone (no resampling), conceals a lost packet
// with the last one fading, a key press with silence, and after the phone stops: three concealed frames,
// silence, then no frames at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { g711Encode } from '../../src/sip/media/g711.ts';
import { VoiceDecoder } from '../../src/sip/media/voice-decoder.ts';
import { VoiceEncoder } from '../../src/sip/media/voice-encoder.ts';
import { pitch, rms, tone } from '../helpers/audio-tone.ts';

const PCMU = { name: 'pcmu', payloadType: 0, clockRate: 8000 } as const;
const OPUS = { name: 'opus', payloadType: 111, clockRate: 48000 } as const;

test('the encoder: one stream, the marker and a timestamp moved on after a pause, a codec change keeps it', () => {
  const enc = new VoiceEncoder();
  const frame = tone(48000, 0.02, 440, 8000);
  assert.equal(enc.encode(frame, 0), 0, 'no codec yet: nothing');
  enc.setCodec(PCMU);
  const packets: Buffer[] = [];
  const send = (now: number) => {
    const n = enc.encode(frame, now);
    packets.push(Buffer.from(enc.buf.subarray(0, n)));
  };
  send(1000);
  send(1020);
  send(1200); // 180 ms after the last: a pause
  enc.setCodec(OPUS);
  send(1220);
  const [a, b, c, d] = packets as [Buffer, Buffer, Buffer, Buffer];
  const marker = (p: Buffer) => (p[1]! & 0x80) !== 0;
  const seq = (p: Buffer) => p.readUInt16BE(2);
  const ts = (p: Buffer) => p.readUInt32BE(4);
  assert.deepEqual([a, b, c, d].map(marker), [true, false, true, false]);
  assert.equal(a.length, 12 + 160);
  assert.equal((seq(b) - seq(a)) & 0xffff, 1);
  assert.equal((ts(b) - ts(a)) >>> 0, 160);
  assert.equal((ts(c) - ts(b)) >>> 0, 1440, 'the timestamp counts the 180 ms');
  assert.equal(d[1]! & 0x7f, 111);
  assert.equal((seq(d) - seq(c)) & 0xffff, 1);
  assert.equal(d.readUInt32BE(8), a.readUInt32BE(8), 'one SSRC');
  assert.ok(d.length > 12 && d.length < 12 + 200, `an Opus packet of ${d.length - 12} bytes`);
  enc.close();
});

test('the encoder takes a frame at either rate: 8 kHz as it is to G.711, 48 kHz brought down; 8 kHz brought up to Opus', () => {
  const enc = new VoiceEncoder();
  enc.setCodec(PCMU);
  const narrow = tone(8000, 0.02, 440, 8000);
  const n = enc.encode(narrow, 0);
  const expected = new Uint8Array(160);
  g711Encode('pcmu', narrow, expected);
  assert.deepEqual(new Uint8Array(enc.buf.subarray(12, n)), expected, 'the 8 kHz frame coded sample for sample');
  assert.equal(enc.encode(tone(48000, 0.02, 440, 8000), 20), 12 + 160, 'a 48 kHz frame (a prompt): 160 samples');
  assert.equal(enc.encode(new Int16Array(100), 40), 0, 'not a 20 ms frame: nothing');
  enc.setCodec(OPUS);
  const m = enc.encode(narrow, 60);
  assert.ok(m > 12 && m < 12 + 200, `an Opus packet of ${m - 12} bytes from an 8 kHz frame`);
  enc.close();
});

test('the decoder: G.711 to 8 kHz frames of the same tone; a loss fades, a key press is silence; then it stops', () => {
  const dec = new VoiceDecoder(PCMU);
  const wave = tone(8000, 1, 1000, 8000);
  const payload = new Uint8Array(160);
  const push = (seq: number, pt = 0) => {
    g711Encode('pcmu', wave.subarray((seq % 50) * 160, (seq % 50) * 160 + 160), payload);
    dec.jitter.push(7, seq, seq * 160, pt, false, payload, seq * 20);
  };
  const frames: (Int16Array | null)[] = [];
  // 40 packets in time, one lost (20), one a key press (30), one frame per tick
  for (let seq = 0; seq < 40; seq++) {
    if (seq !== 20) push(seq, seq === 30 ? 101 : 0);
    frames.push(dec.frame());
  }
  for (let t = 0; t < 40; t++) frames.push(dec.frame()); // the phone stopped
  const given = frames.filter((f): f is Int16Array => f !== null);
  // the buffer waits 60 ms, then one frame a tick
  assert.equal(frames.indexOf(given[0]!), 2);
  const playing = given.slice(2, 16);
  assert.equal(dec.rate, 8000);
  assert.ok(given.every((f) => f.length === 160), 'frames of 20 ms at 8 kHz');
  const all = new Int16Array(playing.length * 160);
  playing.forEach((f, i) => all.set(f, i * 160));
  assert.ok(Math.abs(pitch(all, 8000) - 1000) < 10, `pitch ${pitch(all, 8000)}`);
  // G.711 in and out: the samples are the wave's (to G.711's precision), not a filtered copy
  assert.ok(Math.abs(rms(all) - rms(wave.subarray(0, all.length))) < 0.02 * rms(wave), `level ${rms(all)} against ${rms(wave)}`);
  const level = (n: number) => rms(given[n]!);
  // packet n is given[n] (the decoder's frames follow the packets one to one)
  assert.ok(level(20) > 0.3 * level(19) && level(20) < 0.7 * level(19), `the lost packet is the last one at half: ${level(20)} against ${level(19)}`);
  assert.equal(level(30), 0, 'a key press is silence');
  assert.ok(level(39) > 4000, 'the last packet');
  // after the last packet: three concealed frames fading, silence, then no more frames
  assert.ok(level(40) > 0 && level(40) < level(39));
  assert.equal(level(43), 0);
  assert.equal(given.length, 40 + 25, 'frames stop 25 ticks after the last packet');
  assert.equal(frames.at(-1), null);
  assert.equal(dec.counters.concealed, 1 + 3);
  dec.close();
});
