// CPU time of a process tree, read from /proc (Linux): the benchmarks that measure what a feature costs the
// browser (bench/effects, bench/e2ee) launch each browser with a marker in its command line; the side-by-side
// benchmark (bench/janus) reads its server process (Tertulia or Janus) by pid.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

interface Proc {
  ppid: number;
  cpu: number;
  cmd: string;
}

function processTable(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
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
  return procs;
}

/** The pids of the `roots` and all their descendants. */
function treeOf(procs: Map<number, Proc>, roots: Iterable<number>): Set<number> {
  const inTree = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) if (!inTree.has(pid) && inTree.has(p.ppid)) (inTree.add(pid), (grew = true));
  }
  return inTree;
}

/** CPU seconds (user + system, every thread) of the `roots` and all their descendants. */
function cpuOfTree(procs: Map<number, Proc>, roots: Iterable<number>): number {
  let cpu = 0;
  for (const pid of treeOf(procs, roots)) cpu += procs.get(pid)?.cpu ?? 0;
  return cpu;
}

/** CPU seconds (user + system) of the processes whose command line holds `marker`, and of all their descendants. */
export function treeCpuSeconds(marker: string): number {
  const procs = processTable();
  return cpuOfTree(procs, [...procs].filter(([, p]) => p.cmd.includes(marker)).map(([pid]) => pid));
}

export interface ThreadCpu {
  name: string;
  /** CPU seconds, user + system. */
  cpu: number;
  /** Times it went to sleep by itself (voluntary context switches): about how often it was woken. */
  wakeUps: number;
}

/**
 * CPU seconds (user + system) and wake-ups of every thread of process `pid` and its descendants, keyed by thread id, with the
 * thread's name (its comm: Node's media workers, V8's compiler and collector threads, libuv's pool).
 */
export function pidTreeThreadCpu(pid: number): Map<number, ThreadCpu> {
  const procs = processTable();
  const out = new Map<number, ThreadCpu>();
  if (!procs.has(pid)) return out;
  for (const p of treeOf(procs, [pid])) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const stat = readFileSync(`/proc/${p}/task/${t}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const wakeUps = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/task/${t}/status`, 'utf8'))?.[1] ?? 0);
        out.set(Number(t), { name: Number(t) === p ? `${name} (main)` : name, cpu: (Number(f[11]) + Number(f[12])) / TICKS, wakeUps });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** CPU seconds (user + system) of process `pid` and its descendants; 0 when it is gone. */
export function pidTreeCpuSeconds(pid: number): number {
  const procs = processTable();
  return procs.has(pid) ? cpuOfTree(procs, [pid]) : 0;
}

/** Resident memory of process `pid` in bytes (VmRSS), 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
