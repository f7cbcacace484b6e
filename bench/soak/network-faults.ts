// Network faults for one participant of the soak (root only: ip netns, veth, tc): the participant's process
// runs in a network namespace of its own, joined to the root namespace (where the server runs) by a veth pair,
// a /30 of 10.251.x.0. Kernel faults are put on both ends of the pair, so both directions suffer them: a cut
// (both ends down) that is later restored, a tbf rate limit (queueing delay, then tail drops), and, where the
// kernel has netem, loss, delay with jitter, reordering and duplication (`impair`). Without netem (this
// machine's kernel has only pfifo, htb and tbf) those are done to the participant's media by lossy-relay.ts.
// `destroy` deletes the namespace, which removes the veth pair and its qdiscs; it is safe to call twice, and
// the soak calls it on every way out (end, error, SIGINT/SIGTERM).
import { execFileSync } from 'node:child_process';
import type { Impairment } from './lossy-relay.ts';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the faults cannot be injected here, or null when they can. */
export function faultsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, tc)';
  try {
    run('ip', ['netns', 'list']);
    run('tc', ['qdisc', 'show', 'dev', 'lo']);
    return null;
  } catch {
    return 'ip netns / tc are not usable here';
  }
}

/** One fault: an impairment (netem on the link, else the relay's on the media), a tbf rate limit, or a cut of `cutMs`. */
export interface Fault {
  name: string;
  impairment?: Impairment;
  rateKbit?: number;
  cutMs?: number;
}

/**
 * The faults the soak cycles through, one at a time. A 6 s cut is shorter than the server's heartbeat timeout
 * (8 s: the participant stays); a 20 s cut is longer (the server drops the participant, which joins again once
 * the network is back).
 */
export const FAULTS: Fault[] = [
  { name: 'loss 5%', impairment: { loss: 0.05 } },
  { name: 'delay 80±20 ms, reorder 10%', impairment: { delayMs: 80, jitterMs: 20, reorder: 0.1 } },
  { name: 'link rate 300 kbit/s (tbf)', rateKbit: 300 },
  { name: 'cut 6 s', cutMs: 6000 },
  { name: 'loss 15%, delay 40 ms', impairment: { loss: 0.15, delayMs: 40 } },
  { name: 'loss 2%, duplicate 2%, delay 20±10 ms', impairment: { loss: 0.02, duplicate: 0.02, delayMs: 20, jitterMs: 10 } },
  { name: 'cut 20 s', cutMs: 20_000 },
];

/** tc netem's arguments for an impairment. */
export function netemArgs(i: Impairment): string[] {
  const pct = (p: number) => `${+(p * 100).toFixed(3)}%`;
  const a: string[] = [];
  if (i.delayMs) a.push('delay', `${i.delayMs}ms`, ...(i.jitterMs ? [`${i.jitterMs}ms`] : []));
  if (i.reorder && i.delayMs) a.push('reorder', pct(i.reorder), '50%');
  if (i.loss) a.push('loss', pct(i.loss));
  if (i.duplicate) a.push('duplicate', pct(i.duplicate));
  return a;
}

export interface FaultyLink {
  /** The namespace the participant runs in (`ip netns exec <ns> ...`). */
  ns: string;
  /** The root namespace's end: the server's address as the participant reaches it. */
  hostAddress: string;
  clientAddress: string;
  /** True when the kernel has netem: `impair` works. */
  hasNetem: boolean;
  /** netem on both ends with this loss, delay, reorder, duplication (replacing what was there). */
  impair(i: Impairment): void;
  /** A tbf rate limit on both ends (replacing what was there). */
  limit(kbit: number): void;
  /** Takes both ends down (nothing passes) / up again. */
  cut(): void;
  restore(): void;
  /** No qdisc, both ends up. */
  clear(): void;
  destroy(): void;
}

/** A namespace with a veth pair to the root namespace, on a /30 not used on this machine. */
export function createFaultyLink(tag = String(process.pid)): FaultyLink {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  let third = Number(tag) % 250;
  while (used.includes(`10.251.${third}.`)) third = (third + 1) % 250;
  const ns = `tt-soak${tag}`;
  const host = `tsh${tag}`.slice(0, 15);
  const peer = `tsc${tag}`.slice(0, 15);
  const hostAddress = `10.251.${third}.1`;
  const clientAddress = `10.251.${third}.2`;
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {
      // not created
    }
    try {
      run('ip', ['link', 'del', host]); // only when the pair was made but not moved
    } catch {
      // gone with the namespace
    }
  };
  const ends: [string[], string][] = [
    [[], host],
    [['-n', ns], peer],
  ];
  try {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    run('ip', ['link', 'set', peer, 'netns', ns]);
    run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', host]);
    run('ip', ['-n', ns, 'addr', 'add', `${clientAddress}/30`, 'dev', peer]);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const [where, dev] of ends) run('ip', [...where, 'link', 'set', dev, 'up']);
  } catch (e) {
    destroy();
    throw e;
  }
  const clearQdiscs = () => {
    for (const [where, dev] of ends) {
      try {
        run('tc', [...where, 'qdisc', 'del', 'dev', dev, 'root']);
      } catch {
        // none
      }
    }
  };
  let hasNetem = true;
  try {
    run('tc', ['qdisc', 'replace', 'dev', host, 'root', 'netem', 'delay', '0ms']);
  } catch {
    hasNetem = false;
  }
  clearQdiscs();
  const setUp = (up: boolean) => {
    for (const [where, dev] of ends) run('ip', [...where, 'link', 'set', dev, up ? 'up' : 'down']);
  };
  return {
    ns,
    hostAddress,
    clientAddress,
    hasNetem,
    impair(i) {
      for (const [where, dev] of ends) run('tc', [...where, 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...netemArgs(i)]);
    },
    limit(kbit) {
      // a queue of at most ~200 ms at the rate: congestion shows as delay first, then loss
      const burst = String(Math.max(3000, Math.round((kbit * 1000) / 8 / 50)));
      for (const [where, dev] of ends) run('tc', [...where, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', burst, 'latency', '200ms']);
    },
    cut: () => setUp(false),
    restore: () => setUp(true),
    clear() {
      clearQdiscs();
      setUp(true);
    },
    destroy,
  };
}
