// `tertulia loadtest`: synthetic participants (real WebSocket signalling, ICE, DTLS, SRTP, simulcast VP8 and
// Opus made with ffmpeg) join rooms of any Tertulia server, spread over driver processes (driver-process.ts)
// so that the load tester is not the bottleneck; once all have joined they are measured for a while, then
// leave. What LiveKit's `lk load-test` and Jitsi's Malleus do, for an admin sizing a server.
import os from 'node:os';
import { loadMedia } from './media.ts';
import { nowUs32 } from './participant.ts';
import { DriverHandle } from './driver-handle.ts';
import { makePlan, type FromDriver, type LoadtestOptions } from './plan.ts';
import { summarize, type DriverReport, type LoadtestReport } from './report.ts';

/** Time between everyone's media being up and the start of counting (streams and estimates settle). */
const SETTLE_MS = 2000;
/** A driver that does not answer a step within this long (after the step's own time) is given up. */
const STEP_GRACE_MS = 60_000;

export async function runLoadtest(o: LoadtestOptions, progress: (line: string) => void): Promise<LoadtestReport> {
  const plan = makePlan(o, os.availableParallelism());
  const total = plan.drivers.reduce((a, d) => a + d.length, 0);
  // made once here (ffmpeg, cached), so that the drivers only read the clips
  const media = loadMedia();
  progress(`${total} participants in ${plan.rooms.length} room(s) (${plan.rooms[0]}${plan.rooms.length > 1 ? ` .. ${plan.rooms.at(-1)}` : ''}), ${plan.drivers.length} load tester process(es)`);
  let joined = 0;
  let failed = 0;
  let lastShown = 0;
  const onProgress = (m: FromDriver) => {
    if (m.type === 'joined') joined++;
    else if (m.type === 'join-failed') failed++;
    else return;
    if (Date.now() - lastShown > 1000 || joined + failed === total) {
      lastShown = Date.now();
      progress(`joined ${joined} of ${total}${failed ? `, ${failed} failed` : ''}`);
    }
  };
  const drivers = plan.drivers.map(() => new DriverHandle(onProgress));
  const stopAll = () => drivers.forEach((d) => d.child.kill('SIGTERM'));
  process.once('SIGINT', stopAll);
  try {
    const joinSpanMs = Math.max(...plan.drivers.flat().map((c) => c.joinAfterMs)) + 30_000;
    const ready = drivers.map((d) => d.next('ready', joinSpanMs + STEP_GRACE_MS));
    drivers.forEach((d, i) => d.send({ type: 'start', host: plan.host, httpsPort: plan.httpsPort, videoFps: o.videoFps, clients: plan.drivers[i]! }));
    await Promise.all(ready);
    const startUs = (nowUs32() + SETTLE_MS * 1000) >>> 0;
    drivers.forEach((d) => d.send({ type: 'measure', startUs, lengthUs: o.duration * 1_000_000 }));
    // with nobody in, there is nothing to wait for
    if (joined > 0) {
      progress(`measuring for ${o.duration} s`);
      await new Promise((r) => setTimeout(r, SETTLE_MS + o.duration * 1000 + 500));
    }
    const reports = drivers.map((d) => d.next('report', STEP_GRACE_MS));
    drivers.forEach((d) => d.send({ type: 'report' }));
    const got: DriverReport[] = await Promise.all(reports);
    progress('leaving');
    const left = drivers.map((d) => d.next('left', STEP_GRACE_MS).catch(() => undefined));
    drivers.forEach((d) => d.send({ type: 'leave' }));
    await Promise.all(left);
    return summarize(o, got, media.source);
  } finally {
    process.off('SIGINT', stopAll);
    for (const d of drivers) if (d.child.exitCode === null) d.child.kill('SIGTERM');
  }
}
