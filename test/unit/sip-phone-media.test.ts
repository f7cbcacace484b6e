// The phone side of a call (src/sip/media/phone-media.ts) against real RTP: ffmpeg plays the phone. A 1 kHz
// tone ffmpeg sends as PCMU (in 20 and 30 ms packets) and as Opus comes out of onVoice as 20 ms frames of that
// tone, also through a relay that delays (0-80 ms), reorders, drops and doubles packets; a 440 Hz tone given
// to play() reaches an ffmpeg that receives by an SDP file, and what it decodes is that tone. RFC 4733 key
// presses (built here, as a phone sends them: updates, three ends, one end lost) give one digit each; garbage,
// oversized datagrams and RTCP on the RTP port change nothing; RTP goes back where the phone's packets come from
// (symmetric RTP), a stranger's packets are dropped (and one who came first loses the call to the phone's SDP
// address), the phone's own from a new NAT mapping are followed; a hold
// re-offer stops the sending, a PCMA-only re-offer moves the call to PCMA (same SSRC, sequence on); close frees
// the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Digit } from '../../src/sip/call-audio.ts';
import { forEachReportBlock, forEachRtcp, srSsrc } from '../../src/bridge/packet/rtcp.ts';
import { writeTelephoneEvent } from '../../src/sip/media/dtmf.ts';
import { FrameClock } from '../../src/sip/media/frame-clock.ts';
import { PhoneMedia, type PhoneMediaOptions } from '../../src/sip/media/phone-media.ts';
import { RtpPortRange, RtpPortsExhausted } from '../../src/sip/media/rtp-session.ts';
import { hasFfmpeg, pitch, rms, tone } from '../helpers/audio-tone.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { rng } from '../helpers/random.ts';

const skip = hasFfmpeg() ? false : 'no ffmpeg';
/** A range of our own for each run (other tests on the machine may hold ports of the default one). */
const base = 42000 + 2 * Math.floor(Math.random() * 400);
const ports = new RtpPortRange(base, base + 99);
const clock = new FrameClock();
const options: PhoneMediaOptions = { ports, address: '127.0.0.1', bindAddress: '127.0.0.1', clock };

/** The phone's offer: `codec` on 127.0.0.1:port, telephone-event/8000 as 101. */
function offer(codec: 'pcmu' | 'opus', port: number, direction = 'sendrecv'): string {
  const m = codec === 'pcmu' ? ['m=audio ' + port + ' RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000'] : ['m=audio ' + port + ' RTP/AVP 111 101', 'a=rtpmap:111 opus/48000/2'];
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', ...m, 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', `a=${direction}`, ''].join('\r\n');
}

async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ffmpeg(args: string[]): { exited: Promise<number>; stderr: () => string; kill: () => void } {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { exited, stderr: () => err, kill: () => child.kill('SIGKILL') };
}

/** The frames that hold the tone, without the first and last few (the codec and buffer settling). */
function toneFrames(frames: Int16Array[]): Int16Array {
  const loud = frames.filter((f) => rms(f) > 300);
  assert.ok(loud.length > 40, `only ${loud.length} of ${frames.length} frames hold sound`);
  const steady = loud.slice(5, -5);
  const len = steady[0]!.length;
  const all = new Int16Array(steady.length * len);
  steady.forEach((f, i) => all.set(f, i * len));
  return all;
}

/** An even UDP port with the next one free too (ffmpeg takes both for RTP and RTCP). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const p = await freeUdpPort();
    const even = p % 2 === 0 ? p : p + 1;
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(even + 1, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((r) => s.close(() => r()));
      return even;
    }
  }
}

/** Resolves once someone else holds UDP port `port` on 127.0.0.1 (ffmpeg is listening). */
async function heldElsewhere(port: number, alive: () => boolean): Promise<void> {
  for (;;) {
    if (!alive()) throw new Error('ffmpeg exited before listening');
    const s = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) return;
    await new Promise<void>((r) => s.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const [codec, ptime] of [['pcmu', 20], ['pcmu', 30], ['opus', 20]] as const) {
  test(`${codec} in ${ptime} ms packets: a 1 kHz tone ffmpeg sends as RTP comes out of onVoice, in 20 ms frames`, { skip }, async () => {
    const { media, sdp } = await PhoneMedia.forOffer(offer(codec, 9), options);
    try {
      assert.match(sdp, new RegExp(`m=audio ${media.port} RTP/AVP`));
      const frames: Int16Array[] = [];
      media.onVoice = (f) => frames.push(f);
      const encode =
        codec === 'pcmu'
          ? ['-af', `asetnsamples=n=${ptime * 8}`, '-c:a', 'pcm_mulaw', '-ar', '8000']
          : ['-c:a', 'libopus', '-ar', '48000', '-b:a', '32k', '-frame_duration', String(ptime), '-application', 'voip', '-payload_type', '111'];
      const rate = codec === 'pcmu' ? 8000 : 48000;
      const sender = ffmpeg(['-re', '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=${rate}:duration=3`, ...encode, '-ac', '1', '-f', 'rtp', `rtp://127.0.0.1:${media.port}`]);
      assert.equal(await sender.exited, 0, sender.stderr());
      await until('the tone to be played out', () => frames.length >= 130);
      // at the codec's own rate: G.711 is not resampled
      assert.equal(media.rate, rate);
      assert.ok(frames.every((f) => f.length === rate / 50));
      const steady = toneFrames(frames);
      const hz = pitch(steady, rate);
      assert.ok(Math.abs(hz - 1000) < 15, `pitch ${hz.toFixed(1)} Hz`);
      // ffmpeg's sine is an eighth of full scale: 4096 peak, 2896 RMS
      const level = rms(steady);
      assert.ok(level > 2000 && level < 4000, `level ${level.toFixed(0)}`);
      const stats = media.stats();
      assert.ok(stats.rtp.received >= (3000 / ptime) * 0.95, `received ${stats.rtp.received}`);
      assert.equal(stats.rtp.dropped.malformed, 0);
      assert.equal(stats.jitter?.lost, 0);
    } finally {
      media.close();
    }
  });
}

// the phone's own rate, and a 48 kHz frame (a prompt) to a G.711 phone
for (const [codec, playRate] of [['pcmu', 8000], ['pcmu', 48000], ['opus', 48000]] as const) {
  test(`${codec}: a 440 Hz tone given to play() at ${playRate} Hz reaches ffmpeg, which hears that tone`, { skip }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-phone-media-'));
    const ffPort = await freePortPair();
    const { media, sdp } = await PhoneMedia.forOffer(offer(codec, ffPort), options);
    let timer: NodeJS.Timeout | undefined;
    try {
      // ffmpeg reads our answer as the description of what it receives (its port, and only the codec: ffmpeg
      // takes the last rtpmap's clock rate for the stream, and telephone-event/8000 would slow Opus down 6 times)
      const forFfmpeg = sdp.replace(/m=audio \d+ (\S+) (\d+) 101/, `m=audio ${ffPort} $1 $2`).replace(/a=(rtpmap|fmtp):101 .*\r\n/g, '');
      writeFileSync(path.join(dir, 'call.sdp'), forFfmpeg);
      const out = path.join(dir, 'out.raw');
      const rate = codec === 'pcmu' ? 8000 : 48000;
      const receiver = ffmpeg(['-protocol_whitelist', 'file,udp,rtp', '-i', path.join(dir, 'call.sdp'), '-t', '2', '-f', 's16le', '-ar', String(rate), '-ac', '1', out]);
      let alive = true;
      void receiver.exited.then(() => (alive = false));
      await heldElsewhere(ffPort, () => alive);
      const wave = tone(playRate, 60, 440, 8000);
      const frame = playRate / 50;
      let at = 0;
      timer = setInterval(() => {
        media.play(wave.subarray(at, at + frame));
        at = (at + frame) % (wave.length - frame);
      }, 20);
      assert.equal(await receiver.exited, 0, receiver.stderr());
      clearInterval(timer);
      const pcm = new Int16Array(new Uint8Array(readFileSync(out)).buffer);
      assert.ok(pcm.length >= rate, `ffmpeg wrote ${pcm.length} samples`);
      const steady = pcm.subarray(Math.floor(rate / 5), pcm.length - Math.floor(rate / 10));
      const hz = pitch(steady, rate);
      assert.ok(Math.abs(hz - 440) < 10, `pitch ${hz.toFixed(1)} Hz`);
      const level = rms(steady);
      assert.ok(level > 4000 && level < 7500, `level ${level.toFixed(0)} (sent 5657)`);
      assert.ok(media.counters.packetsOut > 50);
    } finally {
      clearInterval(timer);
      media.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('through a bad network (0-80 ms of jitter, so reordered; 4% lost, 2% twice): the tone still comes out', { skip }, async () => {
  const { media } = await PhoneMedia.forOffer(offer('pcmu', 9), options);
  // the network: ffmpeg sends to this relay, which passes each packet on to the call late, or twice, or never
  const relay = dgram.createSocket('udp4');
  await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
  const random = rng(15);
  const sent = { dropped: 0, doubled: 0 };
  let open = true;
  relay.on('message', (m) => {
    const r = random();
    if (r < 0.04) {
      sent.dropped++;
      return;
    }
    const copies = r > 0.98 ? 2 : 1;
    if (copies === 2) sent.doubled++;
    for (let c = 0; c < copies; c++) setTimeout(() => open && relay.send(m, media.port, '127.0.0.1'), random() * 80);
  });
  try {
    const frames: Int16Array[] = [];
    media.onVoice = (f) => frames.push(f);
    const sender = ffmpeg(['-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000:duration=4', '-af', 'asetnsamples=n=160', '-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1', '-f', 'rtp', `rtp://127.0.0.1:${relay.address().port}`]);
    assert.equal(await sender.exited, 0, sender.stderr());
    await until('the tone to be played out', () => frames.length >= 180);
    const steady = toneFrames(frames);
    const hz = pitch(steady, 8000);
    assert.ok(Math.abs(hz - 1000) < 25, `pitch ${hz.toFixed(1)} Hz`);
    const jitter = media.stats().jitter!;
    assert.ok(sent.dropped > 0 && sent.doubled > 0, `the network dropped ${sent.dropped} and doubled ${sent.doubled}`);
    assert.ok(jitter.lost >= sent.dropped, `lost ${jitter.lost}, dropped ${sent.dropped}`);
    assert.ok(jitter.duplicates + jitter.late >= sent.doubled, `duplicates ${jitter.duplicates}, late ${jitter.late}`);
    // what was not lost on the way was played (but for the few late ones before the delay had grown)
    assert.ok(jitter.late < 40, `late ${jitter.late}`);
    assert.ok(jitter.played >= 200 - sent.dropped - jitter.late - 10, `played ${jitter.played} of 200 (late ${jitter.late})`);
    assert.ok(media.stats().targetFrames >= 5, 'the delay grew past the 80 ms of jitter');
  } finally {
    open = false;
    media.close();
    relay.close();
  }
});

/** An RTP packet: header, then payload. */
function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.set(payload, 12);
  return b;
}

/** A socket on `address` (127.0.0.x: another host, as far as the call can tell). */
function udp(address = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

test('RFC 4733 key presses give one digit each; garbage is dropped; RTP goes back to the source; hold stops it; a re-offer moves the codec', async () => {
  const phoneSdp = await udp(); // where the SDP says the phone is
  const phone = await udp(); // where its packets really come from (a NAT)
  const stranger = await udp('127.0.0.2');
  const phoneMoved = await udp('127.0.0.3'); // the phone's NAT gave it a new mapping
  const toPhone: Buffer[] = [];
  const toSdpAddress: Buffer[] = [];
  phone.on('message', (m) => toPhone.push(m));
  phoneSdp.on('message', (m) => toSdpAddress.push(m));
  const phoneOffer = offer('pcmu', phoneSdp.address().port);
  const opened = performance.now();
  const { media } = await PhoneMedia.forOffer(phoneOffer, options);
  const digits: Digit[] = [];
  media.onDigit = (d) => digits.push(d);
  const send = (s: dgram.Socket, b: Buffer) => new Promise<void>((r) => s.send(b, media.port, '127.0.0.1', () => r()));
  try {
    // before the phone sends: to its SDP address
    media.play(new Int16Array(960));
    await until('a packet at the SDP address', () => toSdpAddress.length === 1);

    const ssrc = 0xdecafbad;
    let seq = 100;
    let ts = 8000;
    // garbage first: nothing breaks, nothing latches
    await send(phone, Buffer.from('INVITE sip:nobody SIP/2.0\r\n\r\n'));
    await send(phone, Buffer.alloc(2000, 0x80));
    await send(phone, Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1])); // an RTCP receiver report (rtcp-mux)
    await send(phone, Buffer.from([0x80]));
    // a stranger sends first and is latched; the phone's first packet from the address of its SDP takes over
    await send(stranger, rtp(0, 1, 0, 0x5555, new Uint8Array(160)));
    await until('the stranger latched', () => media.stats().remote.address === '127.0.0.2');
    for (let i = 0; i < 5; i++, ts += 160) await send(phone, rtp(0, seq++, ts, ssrc, new Uint8Array(160).fill(0xff)));
    await until('the phone latched', () => media.stats().remote.address === '127.0.0.1');
    assert.equal(media.stats().rtp.relatched, 1);
    // key presses: "5" (updates, then three ends), "#" (the same), "1" whose ends are all lost, then "2"
    const press = async (event: number, ends: number) => {
      const payload = new Uint8Array(4);
      for (let d = 1; d <= 3; d++) {
        writeTelephoneEvent(payload, 0, event, false, 10, d * 160);
        await send(phone, rtp(101, seq++, ts, ssrc, payload, d === 1));
      }
      for (let e = 0; e < ends; e++) {
        writeTelephoneEvent(payload, 0, event, true, 10, 640);
        await send(phone, rtp(101, seq++, ts, ssrc, payload));
      }
      ts += 800;
    };
    await press(5, 3);
    await press(11, 3);
    await press(1, 0);
    await press(2, 3);
    await until('four digits', () => digits.length >= 4);
    assert.ok(media.idleMs < performance.now() - opened, 'idle counts from the last packet, not from the start');
    assert.deepEqual(digits, ['5', '#', '1', '2']);

    // a stranger's packets are dropped, however many; ours go to where the phone's came from
    for (let i = 0; i < 30; i++) await send(stranger, rtp(0, 7 + i, 0, 0x5555, new Uint8Array(160)));
    await until('the stranger counted', () => media.stats().rtp.dropped.otherSource === 30);
    assert.equal(media.stats().rtp.relatched, 1);
    media.play(new Int16Array(960));
    await until('a packet at the latched address', () => toPhone.length === 1);
    assert.equal(toSdpAddress.length, 1);
    const stats = media.stats();
    assert.equal(stats.rtp.dropped.malformed, 2, 'the SIP text and the one-byte datagram');
    assert.equal(stats.rtp.dropped.oversize, 1);
    assert.equal(stats.rtp.rtcp, 1);
    assert.equal(stats.dtmf.digits, 4);
    // our packet: PCMU, our SSRC, the marker on the first after a pause
    const ours = toPhone[0]!;
    assert.equal(ours[1]! & 0x7f, 0);
    assert.equal(ours.length, 12 + 160);

    // the phone holds (sendonly): nothing more is sent; it unholds: sending again
    media.answer(phoneOffer.replace('a=sendrecv', 'a=sendonly'));
    assert.equal(media.held, true);
    const sentBefore = media.stats().rtp.sent;
    media.play(new Int16Array(960));
    assert.equal(media.stats().rtp.sent, sentBefore);
    assert.equal(media.counters.notSent, 1);
    const unheld = media.answer(phoneOffer);
    assert.equal(media.held, false);
    assert.equal(media.answer(''), unheld, 'a re-INVITE without SDP (a session refresh): our description as it stands');
    media.play(new Int16Array(960));
    await until('a packet after the unhold', () => toPhone.length === 2);

    // the phone's packets (its SSRC) come from a new address: after ten in a row, we follow
    const toMoved: Buffer[] = [];
    phoneMoved.on('message', (m) => toMoved.push(m));
    for (let i = 0; i < 10; i++, ts += 160) await send(phoneMoved, rtp(0, seq++, ts, ssrc, new Uint8Array(160).fill(0xff)));
    await until('relatched', () => media.stats().rtp.relatched === 2);
    media.play(new Int16Array(960));
    await until('a packet at the new address', () => toMoved.length === 1);

    // a re-offer with PCMA only: the call moves to PCMA
    media.answer(phoneOffer.replace('RTP/AVP 0 101', 'RTP/AVP 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000'));
    assert.equal(media.plan?.codec.name, 'pcma');
    media.play(new Int16Array(960));
    await until('a PCMA packet', () => toMoved.length === 2);
    assert.equal(toMoved[1]![1]! & 0x7f, 8);
    assert.equal(toMoved[1]!.readUInt32BE(8), toMoved[0]!.readUInt32BE(8), 'the same SSRC');
    assert.equal(toMoved[1]!.readUInt16BE(2), (toMoved[0]!.readUInt16BE(2) + 1) & 0xffff, 'the next sequence number');

    // play() with a frame of the wrong size is refused quietly
    media.play(new Int16Array(100));
    assert.equal(media.counters.badFrames, 1);
  } finally {
    media.close();
    for (const s of [phone, phoneSdp, stranger, phoneMoved]) s.close();
  }
  // the port is free again
  assert.equal(ports.inUse, 0);
});

test('RTCP: a sender report with a block on the phone (its losses, highest sequence, its SR), and SDES, where its RTCP comes from', async () => {
  const phoneRtp = await udp();
  const phoneRtcp = await udp();
  const { media } = await PhoneMedia.forOffer(offer('pcmu', phoneRtp.address().port), { ...options, rtcpIntervalMs: 100 });
  const fromUs: Buffer[] = [];
  const ourRtp: Buffer[] = [];
  phoneRtcp.on('message', (m) => fromUs.push(m));
  phoneRtp.on('message', (m) => ourRtp.push(m));
  const send = (s: dgram.Socket, b: Buffer, port = media.port) => new Promise<void>((r) => s.send(b, port, '127.0.0.1', () => r()));
  try {
    const ssrc = 0x0badcafe;
    // 20 packets, two of them lost on the way (1005 and 1011)
    for (let seq = 1000; seq < 1020; seq++) if (seq !== 1005 && seq !== 1011) await send(phoneRtp, rtp(0, seq, seq * 160, ssrc, new Uint8Array(160).fill(0xff)));
    // the phone's sender report, to our RTCP port: NTP 0x11223344.55667788
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(ssrc, 4);
    sr.writeUInt32BE(0x11223344, 8);
    sr.writeUInt32BE(0x55667788, 12);
    await until('the RTP latched', () => media.stats().rtp.received === 18);
    await send(phoneRtcp, sr, media.port + 1);
    media.play(new Int16Array(960));
    await until('our RTP', () => ourRtp.length > 0);
    const ours = ourRtp[0]!.readUInt32BE(8);
    let report: { sender: number; block: number[]; cname: boolean } | null = null;
    await until('a sender report that saw the SR of the phone', () => {
      for (const m of fromUs) {
        let sender = -1;
        let block: number[] = [];
        let cname = false;
        const ok = forEachRtcp(m, m.length, (o, length, pt) => {
          if (pt === 200) {
            sender = srSsrc(m, o);
            forEachReportBlock(m, o, length, (b) => (block = [m.readUInt32BE(b), m.readIntBE(b + 5, 3), m.readUInt32BE(b + 8), m.readUInt32BE(b + 16)]));
          }
          if (pt === 202) cname = m[o + 8] === 1 && m.subarray(o + 10, o + 10 + m[o + 9]!).toString().startsWith('tertulia-');
        });
        if (ok && sender === ours && block[3] === 0x33445566) report = { sender, block, cname };
      }
      return report !== null;
    });
    assert.deepEqual(report!.block, [ssrc, 2, 1019, 0x33445566], 'the phone, 2 lost, highest 1019, its SR');
    assert.equal(report!.cname, true);
  } finally {
    media.close();
    phoneRtp.close();
    phoneRtcp.close();
  }
});

test('a refused offer takes no port; the range runs out cleanly', async () => {
  await assert.rejects(PhoneMedia.forOffer('v=0\r\nm=video 1 RTP/AVP 96\r\n', options), /no audio m-line/);
  assert.equal(ports.inUse, 0);
  await assert.rejects(PhoneMedia.open({ ...options, address: 'gateway.example.org' }), /not an IPv4 address/);
  assert.equal(ports.inUse, 0);
  const small = new RtpPortRange(base + 100, base + 103);
  const a = await PhoneMedia.open({ ...options, ports: small });
  const b = await PhoneMedia.open({ ...options, ports: small });
  await assert.rejects(PhoneMedia.open({ ...options, ports: small }), (e: unknown) => e instanceof RtpPortsExhausted && e.status === 503 && /no free UDP port pair/.test(e.message));
  a.close();
  const c = await PhoneMedia.open({ ...options, ports: small });
  assert.equal(c.port, a.port);
  b.close();
  c.close();
  assert.equal(small.inUse, 0);
});
