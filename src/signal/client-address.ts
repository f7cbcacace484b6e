// The key that rate limits (wrong passwords, failed sign-ins) count a client under: its IPv4 address, or the /64
// of its IPv6 address. One IPv6 host usually holds a whole /64 and can pick a new address in it for every try,
// so counting single IPv6 addresses would limit nothing.
import { isIPv4, isIPv6 } from 'node:net';

/** "1.2.3.4" for IPv4 (also when written IPv4-mapped, "::ffff:1.2.3.4"), "2001:db8:0:1::/64" for IPv6. */
export function rateLimitKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped !== null && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(a)) return a;
  const zoneless = a.split('%')[0];
  if (!isIPv6(zoneless)) return a;
  const groups = expandIPv6(zoneless);
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function expandIPv6(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (part: string | undefined): number[] => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [b0, b1, b2, b3] = g.split('.').map(Number);
        out.push((b0 << 8) | b1, (b2 << 8) | b3);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
