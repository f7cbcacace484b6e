// A CPU cgroup (v1, needs root) that holds what runs in it to a share of one core: a server in it starts its media
// workers as slowly as on a busy machine, without making the machine busy for anyone else. `wrap` (for
// startServer's `wrap`) puts the server in it before it runs; `remove` once the server is gone.
import { accessSync, constants, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';

const ROOT = '/sys/fs/cgroup/cpu';

/** Whether CPU cgroups can be made here (v1 hierarchy, writable). */
export function cpuCgroupsAvailable(): boolean {
  try {
    accessSync(`${ROOT}/cgroup.procs`, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface CpuCgroup {
  dir: string;
  /** startServer's `wrap`: the server joins the group, then runs. */
  wrap: () => string[];
  remove(): void;
}

/** A cgroup holding `percent` % of one core. */
export function cpuCgroup(name: string, percent: number): CpuCgroup {
  const dir = `${ROOT}/${name}-${process.pid}`;
  mkdirSync(dir);
  writeFileSync(`${dir}/cpu.cfs_period_us`, '100000');
  writeFileSync(`${dir}/cpu.cfs_quota_us`, String(Math.round(percent * 1000)));
  return {
    dir,
    wrap: () => ['sh', '-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh'],
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // a process still in it: left for the system
      }
    },
  };
}
