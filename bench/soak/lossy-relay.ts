// A UDP relay that does to datagrams what `tc netem` would (this machine's kernel has no netem: only pfifo,
// htb and tbf qdiscs): loss, delay with jitter, reordering, duplication, in both directions. The soak's roaming
// participant sends its media to `port` on `address`; the relay forwards it to the bridge from a socket of its
// own (the bridge sees that socket as the participant's address) and relays the bridge's answers back to the
// last address that sent. Faults change at any time with `set`; `set(null)` relays untouched.
// Reordering is netem's: a datagram picked for it goes at once while the others wait their delay.
import dgram from 'node:dgram';

export interface Impairment {
  /** Probabilities, 0..1. */
  loss?: number;
  duplicate?: number;
  reorder?: number;
  delayMs?: number;
  jitterMs?: number;
}

export interface LossyRelay {
  port: number;
  set(impairment: Impairment | null): void;
  /** Datagrams relayed, dropped, duplicated, sent out of order, both directions together. */
  readonly counts: { relayed: number; dropped: number; duplicated: number; reordered: number };
  close(): Promise<void>;
}

export async function startLossyRelay(opts: { address: string; target: { address: string; port: number } }): Promise<LossyRelay> {
  const outside = dgram.createSocket('udp4');
  const inside = dgram.createSocket('udp4');
  await Promise.all([
    new Promise<void>((r) => outside.bind(0, opts.address, () => r())),
    new Promise<void>((r) => inside.bind(0, '127.0.0.1', () => r())),
  ]);
  let impairment: Impairment | null = null;
  let peer: { address: string; port: number } | null = null;
  const counts = { relayed: 0, dropped: 0, duplicated: 0, reordered: 0 };
  const pending = new Set<NodeJS.Timeout>();

  const pass = (sock: dgram.Socket, m: Buffer, to: { address: string; port: number }) => {
    const f = impairment;
    if (f !== null && f.loss && Math.random() < f.loss) {
      counts.dropped++;
      return;
    }
    const copies = f !== null && f.duplicate && Math.random() < f.duplicate ? 2 : 1;
    if (copies === 2) counts.duplicated++;
    for (let i = 0; i < copies; i++) {
      const reordered = f !== null && f.reorder !== undefined && (f.delayMs ?? 0) > 0 && Math.random() < f.reorder;
      const delay = f === null || reordered ? 0 : Math.max(0, (f.delayMs ?? 0) + (Math.random() * 2 - 1) * (f.jitterMs ?? 0));
      counts.relayed++;
      if (reordered) counts.reordered++;
      if (delay === 0) sock.send(m, to.port, to.address);
      else {
        const t = setTimeout(() => {
          pending.delete(t);
          sock.send(m, to.port, to.address);
        }, delay);
        pending.add(t);
      }
    }
  };
  outside.on('message', (m, from) => {
    peer = { address: from.address, port: from.port };
    pass(inside, m, opts.target);
  });
  inside.on('message', (m) => {
    if (peer !== null) pass(outside, m, peer);
  });
  for (const s of [outside, inside]) s.on('error', () => {});
  return {
    port: outside.address().port,
    set: (i) => (impairment = i),
    counts,
    close: async () => {
      for (const t of pending) clearTimeout(t);
      await Promise.all([new Promise<void>((r) => outside.close(() => r())), new Promise<void>((r) => inside.close(() => r()))]);
    },
  };
}
