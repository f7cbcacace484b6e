// The benchmark's driver processes: the synthetic participants spread over N child processes (the same driver
// process as `tertulia loadtest`, src/loadtest/driver-process.ts, in its direct role), so that the bridge, not
// one busy benchmark process, is what a step measures. The pool forks them, relays their allocate/configure to
// the bridge process, and asks all of them at once (every request goes to every driver, answers in order).
import { DriverHandle } from '../src/loadtest/driver-handle.ts';
import { spreadOverDrivers, type DirectOp, type DirectParticipantPlan, type DriverCpu, type DriverTally } from '../src/loadtest/plan.ts';
import type { BridgeProcess } from './bridge-control.ts';

const CLOSE_GRACE_MS = 5000;

export class DriverPool {
  private readonly drivers: DriverHandle[];
  /** Participant positions (in the plan given to connect) per driver. */
  readonly groups: number[][];

  private constructor(drivers: DriverHandle[], groups: number[][]) {
    this.drivers = drivers;
    this.groups = groups;
  }

  get size(): number {
    return this.drivers.length;
  }

  get pids(): number[] {
    return this.drivers.map((d) => d.pid);
  }

  /**
   * Forks up to `count` drivers, gives each a share of `participants` of about the same cost (`costs`, e.g.
   * packets per second sent and received) and connects them all to the bridge; resolves with the pool and
   * the negotiated SRTP profile.
   */
  static async connect(
    bridge: BridgeProcess,
    participants: DirectParticipantPlan[],
    costs: number[],
    count: number,
    feedback: boolean,
  ): Promise<{ pool: DriverPool; profile: string }> {
    const groups = spreadOverDrivers(costs, count);
    const drivers = groups.map(() => new DriverHandle());
    const pool = new DriverPool(drivers, groups);
    for (const d of drivers) {
      d.onBridgeRequest = (m) => {
        const reply = (r: { ok: boolean; result?: unknown; error?: string }) => d.send({ type: 'bridge-reply', id: m.id, ...r });
        // a driver reaches the bridge only as a participant would through focus
        if ((m.op !== 'allocate' && m.op !== 'configure') || typeof m.payload !== 'object' || m.payload === null) {
          reply({ ok: false, error: 'not allowed' });
          return;
        }
        bridge.request(m.op, m.payload as never).then(
          (result) => reply({ ok: true, result: result ?? null }),
          (e: Error) => reply({ ok: false, error: e.message }),
        );
      };
    }
    try {
      const answers = await Promise.all(
        drivers.map((d, i) => d.direct<{ profile: string }>({ op: 'connect', port: bridge.port, participants: groups[i]!.map((k) => participants[k]!), feedback })),
      );
      return { pool, profile: answers[0]?.profile ?? 'none' };
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  /** Sends `op` to every driver; resolves with their answers in driver order. */
  all<R = unknown>(op: DirectOp): Promise<R[]> {
    return Promise.all(this.drivers.map((d) => d.direct<R>(op)));
  }

  cpu(): Promise<DriverCpu[]> {
    return this.all<DriverCpu>({ op: 'since-mark' });
  }

  tally(): Promise<DriverTally[]> {
    return this.all<DriverTally>({ op: 'tally' });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.drivers.map(async (d) => {
        if (d.child.exitCode !== null) return;
        const timer = setTimeout(() => d.child.kill('SIGTERM'), CLOSE_GRACE_MS);
        d.direct({ op: 'close' }).catch(() => {});
        await d.exited;
        clearTimeout(timer);
      }),
    );
  }
}
