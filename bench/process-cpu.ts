// CPU time of a browser's whole process tree, read from /proc (Linux): the benchmarks that measure what a feature
// costs the browser (bench/effects, bench/e2ee) launch each browser with a marker in its command line.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of the processes whose command line holds `marker`, and of all their descendants. */
export function treeCpuSeconds(marker: string): number {
  const procs = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  const inTree = new Set([...procs].filter(([, p]) => p.cmd.includes(marker)).map(([pid]) => pid));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) if (!inTree.has(pid) && inTree.has(p.ppid)) (inTree.add(pid), (grew = true));
  }
  let cpu = 0;
  for (const pid of inTree) cpu += procs.get(pid)!.cpu;
  return cpu;
}
