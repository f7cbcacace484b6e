// When a benchmark step measured its drivers rather than the bridge. The synthetic participants run in driver
// processes (bench/driver-pool.ts) that share the machine with the bridge: a driver that cannot send on
// schedule, or that is near a full core, lowers the load the bridge sees and adds its own delay, so such a step
// says nothing about the bridge's limit; so does one whose receivers read too slowly (the kernel dropped
// packets at their full socket buffers: loss the bridge did not cause). The rule: a driver fell behind
// (skipped frames, more than LATE_SHARE_LIMIT of its frames sent LATE_MS late, or packets dropped at its
// receivers' sockets) or used more than DRIVER_CPU_LIMIT of a core.
import { LATE_MS } from '../src/loadtest/send-schedule.ts';

/** A driver process above this share of one core is too busy to be sure it kept up. */
export const DRIVER_CPU_LIMIT = 0.9;
/** Frames sent late (more than LATE_MS after their time) above this share of a driver's frames. */
export const LATE_SHARE_LIMIT = 0.01;

/** One driver process in one measured step. */
export interface DriverStep {
  /** CPU as a share of one core, over the measured window. */
  cpu: number;
  /** Frames its publishers skipped, sent late, and sent (since the step's load started). */
  skips: number;
  late: number;
  frames: number;
  /** Datagrams dropped at its receivers' full socket buffers in the window (0 where unknown). */
  socketDrops?: number;
}

/** Why the step was driver-limited ("driver 2: skipped 130 frames; driver 1: 95% of a core"), or null. */
export function driverLimit(drivers: readonly DriverStep[]): string | null {
  const reasons: string[] = [];
  drivers.forEach((d, i) => {
    const why: string[] = [];
    if (d.skips > 0) why.push(`skipped ${d.skips} frames`);
    if (d.frames > 0 && d.late / d.frames > LATE_SHARE_LIMIT) why.push(`${((d.late / d.frames) * 100).toFixed(1)}% of frames sent over ${LATE_MS} ms late`);
    if ((d.socketDrops ?? 0) > 0) why.push(`its receivers' sockets dropped ${d.socketDrops} packets`);
    if (d.cpu > DRIVER_CPU_LIMIT) why.push(`${Math.round(d.cpu * 100)}% of a core`);
    if (why.length > 0) reasons.push(`${drivers.length > 1 ? `driver ${i + 1}` : 'driver'}: ${why.join(', ')}`);
  });
  return reasons.length > 0 ? reasons.join('; ') : null;
}
