// What a process costs, read from Linux's /proc: CPU time (user + system of every thread), peak memory (VmHWM),
// its children; the machine's CPU use and load average. Everything returns undefined/empty off Linux or for a
// process that is gone.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

let ticks = 0;
/** Clock ticks per second of /proc/<pid>/stat's times (CLK_TCK, 100 on Linux nearly always). */
function clockTicks(): number {
  if (ticks) return ticks;
  try {
    ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

/** The fields after the command name of /proc/<pid>/stat (field 3 is index 0). */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system, every thread) the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** Peak and current resident memory, bytes. */
export function memory(pid: number): { peak: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { peak: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** The children of `parent` whose command line contains `match`, with that command line. */
export function childrenOf(parent: number, match: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const f = statFields(pid);
    if (!f || Number(f[1]) !== parent) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(match)) out.push({ pid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The machine's CPU time so far (all cores): busy and total, in clock ticks. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export function loadAverage(): number[] {
  return os.loadavg();
}
