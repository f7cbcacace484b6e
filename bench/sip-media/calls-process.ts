// The calls under test, in their own process so that its CPU time is theirs: N phone sides of calls
// (PhoneMedia), each answering an offer whose phone is the driver's socket. Each call gives back, through
// play(), every frame it takes out of the phone's RTP (the path a meeting's mix takes to the phone), so both
// directions run: receive, jitter buffer, decode, 8 -> 48 kHz; 48 -> 8 kHz, encode, send.
import { PhoneMedia } from '../../src/sip/media/phone-media.ts';
import { RtpPortRange } from '../../src/sip/media/rtp-session.ts';
import { sharedFrameClock } from '../../src/sip/media/frame-clock.ts';
import type { Json } from '../../src/bus/bus.ts';

export interface CallsConfig {
  calls: number;
  codec: 'pcmu' | 'pcma' | 'opus';
  /** The driver's socket: the phone of every call. */
  phonePort: number;
  portMin: number;
  portMax: number;
}

export interface CallsStats {
  cpuUs: number;
  wallMs: number;
  frames: number;
  concealed: number;
  lost: number;
  underruns: number;
  received: number;
  sent: number;
  clockSkipped: number;
  clockBusyMs: number;
  clockLongestMs: number;
  rss: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SIP_MEDIA ?? '{}') as CallsConfig;
  const ports = new RtpPortRange(config.portMin, config.portMax);
  const pt = { pcmu: 0, pcma: 8, opus: 111 }[config.codec];
  const offer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${config.phonePort} RTP/AVP ${pt} 101`, 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', ''].join('\r\n');
  const calls: PhoneMedia[] = [];
  let frames = 0;
  for (let i = 0; i < config.calls; i++) {
    const { media } = await PhoneMedia.forOffer(offer, { ports, address: '127.0.0.1', bindAddress: '127.0.0.1' });
    media.onVoice = (frame) => {
      frames++;
      media.play(frame);
    };
    calls.push(media);
  }
  const stats = (): CallsStats => {
    const cpu = process.cpuUsage();
    const s = { cpuUs: cpu.user + cpu.system, wallMs: performance.now(), frames, concealed: 0, lost: 0, underruns: 0, received: 0, sent: 0, clockSkipped: sharedFrameClock.counters.skipped, clockBusyMs: sharedFrameClock.counters.busyMs, clockLongestMs: sharedFrameClock.counters.longestMs, rss: process.memoryUsage().rss };
    for (const c of calls) {
      const st = c.stats();
      s.concealed += st.concealed;
      s.lost += st.jitter?.lost ?? 0;
      s.underruns += st.jitter?.underruns ?? 0;
      s.received += st.rtp.received;
      s.sent += st.rtp.sent;
    }
    return s;
  };
  process.on('message', (raw) => {
    const m = raw as { id: number; op: string };
    if (m.op === 'stats') process.send!({ id: m.id, ok: true, result: stats() as unknown as Json });
    else if (m.op === 'close') {
      for (const c of calls) c.close();
      process.send!({ id: m.id, ok: true }, () => process.exit(0));
    }
  });
  process.send!({ id: 0, ok: true, result: { ports: calls.map((c) => c.port) } });
}

main().catch((e: unknown) => {
  process.send?.({ id: 0, ok: false, error: (e as Error).message });
  process.exit(1);
});
