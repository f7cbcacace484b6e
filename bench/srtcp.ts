// SRTCP's cost per packet, in this process: SrtpSession.protectRtcp then unprotectRtcp of RTCP packets of the
// sizes the bridge handles most (a transport-cc feedback it sends, a sender report it receives), with the cipher
// and tag in the native module (native/srtp.c) and with Node's crypto API, the two alternated run by run so both
// see the same machine load. CPU time is process.cpuUsage() around each run; per run and path: µs per packet
// (one protect and one unprotect). Without native/build/srtp.node only Node's crypto is measured. With --rtp the
// packets are RTP (protectRtp and unprotectRtp: the per-packet work of every forwarded packet; --size 1100 is a
// video packet's, 120 an Opus one's).
//   node bench/srtcp.ts [--packets 20000] [--runs 5] [--size 60] [--rtp]
import { SrtpSession, srtpKeyLengths, type SrtpProfileName } from '../src/bridge/packet/srtp.ts';
import { nativeSrtp } from '../src/bridge/native/srtp.ts';
import { benchOptions } from './cli-options.ts';

const USAGE = 'usage: node bench/srtcp.ts [--packets 20000] [--runs 5] [--size 60] [--rtp]';
const options = benchOptions(USAGE, {
  packets: { type: 'string', default: '20000' },
  runs: { type: 'string', default: '5' },
  size: { type: 'string', default: '60' },
  rtp: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
});
const PACKETS = Math.max(1, Number(options.packets) || 20000);
const RUNS = Math.max(1, Number(options.runs) || 5);
/** RTCP bytes before SRTCP (a multiple of 4): 60 is a typical transport-cc feedback of a 50-ms interval. */
const SIZE = Math.max(12, (Number(options.size) || 60) & ~3);
const RTP = options.rtp === true;
const PROFILES: SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];
const PATHS = nativeSrtp() === null ? [false] : [true, false];

function session(profile: SrtpProfileName, native: boolean): SrtpSession {
  const { keyLength, saltLength } = srtpKeyLengths(profile);
  return new SrtpSession(profile, Buffer.alloc(keyLength, 7), Buffer.alloc(saltLength, 9), undefined, native);
}

/** µs of CPU per protect + unprotect of one packet. */
function run(profile: SrtpProfileName, native: boolean): number {
  const tx = session(profile, native);
  const rx = session(profile, native);
  const plain = Buffer.alloc(SIZE, 0x5a);
  if (RTP) {
    // version 2, no extension, payload type 96; the sequence number is set per packet, the SSRC once
    plain[0] = 0x80;
    plain[1] = 96;
    plain.writeUInt32BE(0x1234, 8);
  } else {
    plain[0] = 0x8f;
    plain[1] = 205;
    plain.writeUInt16BE(SIZE / 4 - 1, 2);
    plain.writeUInt32BE(0x1234, 4);
  }
  const buf = Buffer.alloc(SIZE + 32);
  const t0 = process.cpuUsage();
  for (let i = 0; i < PACKETS; i++) {
    if (RTP) {
      plain.writeUInt16BE(i & 0xffff, 2);
      const n = tx.protectRtp(plain, SIZE, buf);
      if (rx.unprotectRtp(buf, n) !== SIZE) throw new Error(`packet ${i} did not round-trip`);
      continue;
    }
    plain.copy(buf);
    const n = tx.protectRtcp(buf, SIZE, buf);
    if (rx.unprotectRtcp(buf, n) !== SIZE) throw new Error(`packet ${i} did not round-trip`);
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / PACKETS;
}

console.log(`${RTP ? 'srtp (RTP)' : 'srtcp'}: ${PACKETS} packets of ${SIZE} bytes per run, ${RUNS} runs per path, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const profile of PROFILES) {
  const per: Record<string, number[]> = {};
  for (const native of PATHS) run(profile, native); // warm-up
  for (let r = 0; r < RUNS; r++) {
    for (const native of r % 2 === 0 ? PATHS : [...PATHS].reverse()) {
      (per[native ? 'native' : "Node's crypto"] ??= []).push(run(profile, native));
    }
  }
  for (const [name, v] of Object.entries(per)) {
    const sorted = [...v].sort((a, b) => a - b);
    console.log(`${profile} ${name}: median ${sorted[sorted.length >> 1].toFixed(2)} µs per protect + unprotect (runs ${v.map((x) => x.toFixed(2)).join(' ')})`);
  }
}
