// `npm run bench -- sip-calls [--calls 50,100,150] [--per-room 5] [--seconds 10]` (bench/sip-calls/run.ts): what whole
// phone calls cost the SIP gateway, as issue 15 asks: G.711 from the phone -> jitter buffer -> narrowband Opus
// from 8 kHz (on the gateway's encoding threads) with audio levels into the meeting, and the room's mix (its
// speakers' Opus decoded once per room at 8 kHz, the loudest three minus one's own) -> G.711 back. Real processes: a NATS server, a server with signal, focus and the
// bridge, and the `sip` part in a process of its own (the one measured). This process is N phones: each INVITEs
// over UDP (the room in X-Room-Name, `--per-room` callers per room), then sends a 1 kHz PCMU tone in real time
// (50 packets/s) and counts the RTP it gets back. Window after a warm-up: the sip process's CPU (/proc: all its
// threads, and its main thread alone, where the calls run but for the Opus encoding threads), RTP back
// against 50/s per call (a gap shows as less), the gaps (more than GAP_MS between two packets back to a phone, by
// the kernel's arrival times when native/udp-batch.c is built, so a stall of this process is not counted: a pause
// the caller hears) and the calls still up.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { g711Encode } from '../../src/sip/media/g711.ts';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats.ts';
import { startServer, type RunningServer } from '../../test/helpers/server.ts';
import { fmt, table } from '../stats.ts';

const USAGE = 'usage: npm run bench -- sip-calls [--calls 50,100,150] [--per-room 5] [--seconds 10]';
const { values } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    calls: { type: 'string', default: '50,100,150' },
    'per-room': { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const counts = values.calls.split(',').map(Number);
const perRoom = Number(values['per-room']);
const seconds = Number(values.seconds);
if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 400) || !(perRoom >= 1 && perRoom <= 50) || !(seconds > 0)) {
  console.error(USAGE);
  process.exit(2);
}
const WARMUP_MS = 3000;
/** A silence this long between two packets back to a phone is a gap the caller hears (three frames missing). */
const GAP_MS = 70;
/** The kernel's arrival times of the packets back (native/udp-batch.c), when the module is built. */
const udp = nativeUdp();
/** /proc/<pid>/stat counts CPU time in clock ticks: 100 a second on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** One second of a 1 kHz tone as 50 PCMU payloads of 20 ms. */
function tonePayloads(): Buffer[] {
  const pcm = new Int16Array(8000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
  return Array.from({ length: 50 }, (_, f) => {
    const b = Buffer.alloc(160);
    g711Encode('pcmu', pcm.subarray(f * 160, (f + 1) * 160), b);
    return b;
  });
}

/** utime + stime of a process (all its threads), or of one of its threads, in seconds. */
function cpuSeconds(pid: number, thread?: number): number {
  const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** One phone: its SIP over one UDP socket (the call's signalling) and its RTP on another. */
class Phone {
  readonly sip = dgram.createSocket('udp4');
  readonly rtp = dgram.createSocket('udp4');
  received = 0;
  /** Gaps of more than GAP_MS in what came back, and the longest pause, ms (since `resetGaps`). */
  gaps = 0;
  longestMs = 0;
  private lastAt = 0;
  /** The RTP socket's descriptor when the native module opened it (-1: dgram's own socket). */
  private fd = -1;
  remote: { port: number } | null = null;
  answered = false;
  ended = false;
  private readonly callId: string;
  private toTag = '';
  private readonly n: number;

  constructor(n: number) {
    this.n = n;
    this.callId = `bench-${n}-${process.pid}`;
    this.rtp.on('message', () => {
      this.received++;
      // when the kernel received it (a stall of this process must not count as the gateway's gap)
      const age = this.fd >= 0 ? udp!.receiveAgeMs(this.fd) : -1;
      const now = performance.now() - Math.max(0, age);
      if (this.lastAt > 0) {
        const pause = now - this.lastAt;
        if (pause > GAP_MS) this.gaps++;
        if (pause > this.longestMs) this.longestMs = pause;
      }
      this.lastAt = now;
    });
  }

  resetGaps(): void {
    this.gaps = 0;
    this.longestMs = 0;
  }

  async open(): Promise<void> {
    if (udp) this.fd = udp.openUdp4('127.0.0.1', 0, false);
    await Promise.all([
      new Promise<void>((r) => this.sip.bind(0, '127.0.0.1', () => r())),
      new Promise<void>((r) => (this.fd >= 0 ? this.rtp.bind({ fd: this.fd }, () => r()) : this.rtp.bind(0, '127.0.0.1', () => r()))),
    ]);
  }

  private headers(method: string, cseq: number, branch: string): string[] {
    const sipPort = this.sip.address().port;
    return [
      `Via: SIP/2.0/UDP 127.0.0.1:${sipPort};branch=z9hG4bK${branch};rport`,
      `From: "Bench ${this.n}" <sip:+3460000${String(this.n).padStart(4, '0')}@127.0.0.1>;tag=b${this.n}`,
      `To: <sip:bench@127.0.0.1>${this.toTag ? `;tag=${this.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:phone@127.0.0.1:${sipPort}>`,
      'Max-Forwards: 70',
    ];
  }

  call(gatewayPort: number, room: string): void {
    const sdp = ['v=0', `o=- ${this.n} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${this.rtp.address().port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', ''].join('\r\n');
    const invite = [`INVITE sip:bench@127.0.0.1:${gatewayPort} SIP/2.0`, ...this.headers('INVITE', 1, `i${this.n}`), `X-Room-Name: ${room}`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n');
    this.sip.on('message', (msg) => {
      const text = msg.toString('latin1');
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status >= 200 && /CSeq: 1 INVITE/i.test(text)) {
        this.toTag = /^To:.*;tag=([^;\r\n]+)/im.exec(text)?.[1] ?? '';
        const port = Number(/m=audio (\d+)/.exec(text)?.[1] ?? 0);
        this.sip.send([`ACK sip:bench@127.0.0.1:${gatewayPort} SIP/2.0`, ...this.headers('ACK', 1, `a${this.n}-${status}`), 'Content-Length: 0', '', ''].join('\r\n'), gatewayPort, '127.0.0.1');
        if (status === 200 && port > 0 && !this.answered) {
          this.answered = true;
          this.remote = { port };
        }
      } else if (/^BYE /.test(text)) {
        this.ended = true;
        const via = /^Via:.*$/im.exec(text)?.[0] ?? '';
        const keep = (h: string) => new RegExp(`^${h}:.*$`, 'im').exec(text)?.[0] ?? '';
        this.sip.send(['SIP/2.0 200 OK', via, keep('From'), keep('To'), keep('Call-ID'), keep('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'), gatewayPort, '127.0.0.1');
      }
    });
    this.sip.send(invite, gatewayPort, '127.0.0.1');
  }

  hangUp(gatewayPort: number): void {
    if (!this.answered || this.ended) return;
    this.sip.send([`BYE sip:bench@127.0.0.1:${gatewayPort} SIP/2.0`, ...this.headers('BYE', 2, `b${this.n}`), 'Content-Length: 0', '', ''].join('\r\n'), gatewayPort, '127.0.0.1');
  }

  close(): void {
    this.sip.close();
    this.rtp.close();
  }
}

interface Row {
  calls: number;
  answered: number;
  cpuPercent: number;
  mainPercent: number;
  perCallPercent: number;
  back: number;
  gaps: number;
  longestMs: number;
  up: number;
  rssMb: number;
}

async function run(calls: number, sip: RunningServer): Promise<Row> {
  const phones = await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      const p = new Phone(i);
      await p.open();
      return p;
    }),
  );
  const gatewayPort = sip.sipPort!;
  // calls placed a few at a time, as a trunk would
  for (let i = 0; i < phones.length; i++) {
    phones[i]!.call(gatewayPort, `bench-room-${Math.floor(i / perRoom)}`);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
  }
  const deadline = Date.now() + 60_000;
  while (phones.some((p) => !p.answered) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const answered = phones.filter((p) => p.answered);
  // each answered phone says its tone in real time (a late timer sends what it owes at once)
  const payloads = tonePayloads();
  const packets = answered.map((_, i) => {
    const b = Buffer.alloc(12 + 160);
    b[0] = 0x80;
    b[1] = 0;
    b.writeUInt32BE(0x20000 + i, 8);
    return b;
  });
  let frame = 0;
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    const due = Math.floor((performance.now() - start) / 20);
    for (; frame <= due; frame++) {
      for (let i = 0; i < answered.length; i++) {
        const b = packets[i]!;
        b.writeUInt16BE(frame & 0xffff, 2);
        b.writeUInt32BE((frame * 160) >>> 0, 4);
        payloads[frame % 50]!.copy(b, 12);
        answered[i]!.rtp.send(b, answered[i]!.remote!.port, '127.0.0.1');
      }
    }
    timer = setTimeout(send, Math.max(0, start + frame * 20 - performance.now()));
  };
  send();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const pid = sip.process.pid!;
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuSeconds(pid, pid);
  const t0 = performance.now();
  const back0 = answered.reduce((n, p) => n + p.received, 0);
  for (const p of answered) p.resetGaps();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = cpuSeconds(pid);
  const main1 = cpuSeconds(pid, pid);
  const t1 = performance.now();
  const back1 = answered.reduce((n, p) => n + p.received, 0);
  const gaps = answered.reduce((n, p) => n + p.gaps, 0);
  const longestMs = answered.reduce((m, p) => Math.max(m, p.longestMs), 0);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  clearTimeout(timer);
  const up = answered.filter((p) => !p.ended).length;
  for (const p of phones) p.hangUp(gatewayPort);
  await new Promise((r) => setTimeout(r, 2000));
  for (const p of phones) p.close();
  const wall = (t1 - t0) / 1000;
  const cpuPercent = ((cpu1 - cpu0) / wall) * 100;
  return {
    calls,
    answered: answered.length,
    cpuPercent,
    mainPercent: ((main1 - main0) / wall) * 100,
    perCallPercent: cpuPercent / Math.max(1, answered.length),
    back: (back1 - back0) / Math.max(1, answered.length * 50 * wall),
    gaps,
    longestMs,
    up,
    rssMb: rss,
  };
}

let nats: NatsServer | undefined;
let main: RunningServer | undefined;
let sip: RunningServer | undefined;
const rows: Row[] = [];
try {
  nats = await startNatsServer();
  main = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'signal,focus,bridge' });
  sip = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'sip', TERTULIA_SIP_RTP_PORT_MIN: '45000', TERTULIA_SIP_RTP_PORT_MAX: '45999' });
  if (!sip.sipPort) throw new Error(`the sip process did not say its port:\n${sip.output()}`);
  for (const n of counts) {
    rows.push(await run(n, sip));
    await new Promise((r) => setTimeout(r, 3000)); // the calls of this round leave their rooms
  }
} finally {
  await sip?.stop();
  await main?.stop();
  await nats?.stop();
}
console.log(`G.711 (PCMU) calls, ${perRoom} per room, ${seconds} s windows after ${WARMUP_MS / 1000} s; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
console.log(
  table(
    ['calls', 'answered', 'sip process CPU (1 core = 100%)', 'its main thread', 'per call (% of a core)', 'calls one core holds', 'RTP back / due', `gaps > ${GAP_MS} ms (all calls)`, 'longest pause ms', 'calls up at the end', 'RSS MiB'],
    rows.map((r) => [String(r.calls), String(r.answered), fmt(r.cpuPercent), fmt(r.mainPercent), fmt(r.perCallPercent, 2), String(Math.floor(100 / r.perCallPercent)), fmt(r.back, 3), String(r.gaps), fmt(r.longestMs, 0), String(r.up), fmt(r.rssMb, 0)]),
  ),
);
