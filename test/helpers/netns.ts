// Network namespaces for tests (iproute2 + iptables, root only): a "client" namespace where Chromium runs and
// a "bridge" namespace where the server runs, linked by a veth pair. Every address lives inside these two
// namespaces only; the host's interfaces, routes and firewall are untouched. Deleting a namespace removes its
// veth end and its iptables rules.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, iptables)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('iptables', ['-t', 'nat', '-S'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'ip netns / iptables are not usable here';
  }
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command inside namespace `ns`. */
export function inNs(ns: string, cmd: string, args: string[]): string {
  return run('ip', ['netns', 'exec', ns, cmd, ...args]);
}

/** Deletes the namespaces (their veth ends and firewall rules go with them) and the launcher directory. */
function destroyer(namespaces: string[], dir: string): () => void {
  return () => {
    for (const ns of namespaces) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** A script in `dir` that runs Chromium in namespace `ns` (a launcher for launchBrowser). */
function chromiumLauncher(dir: string, ns: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${ns} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Namespaces `a` and `b` linked by a veth pair (`va` in a with `addrA`, `vb` in b with `addrB`, /24), all links up. */
function linkedPair(a: string, b: string, va: string, vb: string, addrA: string, addrB: string): void {
  run('ip', ['netns', 'add', a]);
  run('ip', ['netns', 'add', b]);
  run('ip', ['link', 'add', va, 'type', 'veth', 'peer', 'name', vb]);
  run('ip', ['link', 'set', va, 'netns', a]);
  run('ip', ['link', 'set', vb, 'netns', b]);
  run('ip', ['-n', a, 'addr', 'add', `${addrA}/24`, 'dev', va]);
  run('ip', ['-n', b, 'addr', 'add', `${addrB}/24`, 'dev', vb]);
  for (const [ns, dev] of [[a, va], [b, vb]] as const) {
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
}

/** From namespace `ns`, a TCP connection to host:port: 'open', 'timeout' or the error code. */
export function tcpProbe(ns: string, host: string, port: number): string {
  return inNs(ns, process.execPath, [
    '-e',
    `const s=require('net').connect(${port},'${host}');s.setTimeout(2000,()=>{console.log('timeout');process.exit()});s.on('connect',()=>{console.log('open');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`,
  ]).trim();
}

/** Resolves once host:port accepts TCP connections, probed from namespace `from`. */
export async function waitForTcpIn(from: string, host: string, port: number, alive: () => boolean, out: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`exited before listening on ${host}:${port}:\n${out()}`);
    if (tcpProbe(from, host, port) === 'open') return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}:\n${out()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A bridge behind NAT, reached by its public address:
 *   client ns: veth 10.201.0.1/24, route to 198.18.0.0/24 (the "public" network) via the bridge ns; no route
 *              to the bridge's private address.
 *   bridge ns: veth 10.201.0.2/24, private address 10.200.0.2 on lo (the server listens there), and
 *              `iptables -t nat PREROUTING -d 198.18.0.7 -j DNAT --to-destination 10.200.0.2` (and SNAT back for
 *              what the bridge sends first, e.g. to a STUN server in the client namespace at 10.201.0.1).
 */
export interface NatSetup {
  client: string;
  bridge: string;
  publicAddress: string;
  privateAddress: string;
  /** A Chromium launcher script that runs Chromium in the client namespace. */
  chromium: string;
  destroy(): void;
}

export function createNatSetup(tag = String(process.pid)): NatSetup {
  const client = `tt-c${tag}`;
  const bridge = `tt-b${tag}`;
  const vc = `ttc${tag}`.slice(0, 15);
  const vb = `ttb${tag}`.slice(0, 15);
  const publicAddress = '198.18.0.7';
  const privateAddress = '10.200.0.2';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-netns-'));
  const chromium = path.join(dir, 'chromium-in-netns');
  const destroy = destroyer([client, bridge], dir);
  try {
    linkedPair(client, bridge, vc, vb, '10.201.0.1', '10.201.0.2');
    run('ip', ['-n', bridge, 'addr', 'add', `${privateAddress}/32`, 'dev', 'lo']);
    run('ip', ['-n', client, 'route', 'add', '198.18.0.0/24', 'via', '10.201.0.2']);
    inNs(bridge, 'iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', publicAddress, '-j', 'DNAT', '--to-destination', privateAddress]);
    // what the bridge starts itself (a STUN request) leaves from the public address too
    inNs(bridge, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-s', privateAddress, '-j', 'SNAT', '--to-source', publicAddress]);
    writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${client} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
    chmodSync(chromium, 0o755);
  } catch (e) {
    destroy();
    throw e;
  }
  return { client, bridge, publicAddress, privateAddress, chromium, destroy };
}

/**
 * A bridge and several clients, each in its own namespace, for shaping one client's downlink:
 *   bridge ns: the server's address 10.200.0.2 on lo; one veth per client, 10.210.<i>.2/24.
 *   client i:  veth 10.210.<i>.1/24, route to 10.200.0.2 via 10.210.<i>.2.
 * `limit(i, kbit)` puts a token bucket on the bridge's side of client i's veth (what client i receives), after
 * random loss when given;
 * `unlimit(i)` removes it. With `'up'`, both act on client i's side instead (what client i sends).
 */
export interface ShapedSetup {
  bridge: string;
  serverAddress: string;
  clients: Array<{ ns: string; chromium: string }>;
  /** `lossPercent`: also drops that share of the packets at random (before the token bucket). */
  limit(i: number, kbit: number, direction?: 'down' | 'up', lossPercent?: number): void;
  unlimit(i: number, direction?: 'down' | 'up'): void;
  /** Client i's network drops every packet both ways (`cut(i, false)`: it is back). */
  cut(i: number, cut: boolean): void;
  destroy(): void;
}

export function createShapedSetup(clientCount: number, tag = String(process.pid)): ShapedSetup {
  const bridge = `tt-sb${tag}`;
  const serverAddress = '10.200.0.2';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-netns-'));
  const names = Array.from({ length: clientCount }, (_, i) => ({
    ns: `tt-s${i}${tag}`,
    vc: `tsc${i}${tag}`.slice(0, 15),
    vb: `tsb${i}${tag}`.slice(0, 15),
    chromium: path.join(dir, `chromium-${i}`),
  }));
  const destroy = () => {
    for (const ns of [bridge, ...names.map((n) => n.ns)]) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('ip', ['netns', 'add', bridge]);
    run('ip', ['-n', bridge, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', bridge, 'addr', 'add', `${serverAddress}/32`, 'dev', 'lo']);
    names.forEach((n, i) => {
      run('ip', ['netns', 'add', n.ns]);
      run('ip', ['link', 'add', n.vc, 'type', 'veth', 'peer', 'name', n.vb]);
      run('ip', ['link', 'set', n.vc, 'netns', n.ns]);
      run('ip', ['link', 'set', n.vb, 'netns', bridge]);
      run('ip', ['-n', n.ns, 'addr', 'add', `10.210.${i}.1/24`, 'dev', n.vc]);
      run('ip', ['-n', bridge, 'addr', 'add', `10.210.${i}.2/24`, 'dev', n.vb]);
      run('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', n.ns, 'link', 'set', n.vc, 'up']);
      run('ip', ['-n', bridge, 'link', 'set', n.vb, 'up']);
      run('ip', ['-n', n.ns, 'route', 'add', `${serverAddress}/32`, 'via', `10.210.${i}.2`]);
      writeFileSync(n.chromium, `#!/bin/sh\nexec ip netns exec ${n.ns} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
      chmodSync(n.chromium, 0o755);
    });
  } catch (e) {
    destroy();
    throw e;
  }
  /** The namespace and device whose egress is client i's downlink (the bridge's side) or uplink (the client's). */
  const side = (i: number, direction: 'down' | 'up'): [string, string] => (direction === 'down' ? [bridge, names[i].vb] : [names[i].ns, names[i].vc]);
  return {
    bridge,
    serverAddress,
    clients: names.map((n) => ({ ns: n.ns, chromium: n.chromium })),
    limit(i, kbit, direction = 'down', lossPercent = 0) {
      // a queue of at most ~200 ms at the limit: congestion shows as delay first, then loss
      const burst = Math.max(3000, Math.round((kbit * 1000) / 8 / 50));
      const [ns, dev] = side(i, direction);
      inNs(ns, 'tc', ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '200ms']);
      dropRandomly(ns, dev, lossPercent);
    },
    unlimit(i, direction = 'down') {
      const [ns, dev] = side(i, direction);
      try {
        inNs(ns, 'tc', ['qdisc', 'del', 'dev', dev, 'root']);
      } catch {
        // no qdisc
      }
      dropRandomly(ns, dev, 0);
    },
    cut(i, cut) {
      for (const direction of ['down', 'up'] as const) dropRandomly(...side(i, direction), cut ? 100 : 0);
    },
    destroy,
  };
}

/**
 * Drops `percent` % of the packets leaving `dev` in namespace `ns`, at random (nftables: this kernel has no netem);
 * 0 removes the rule.
 */
function dropRandomly(ns: string, dev: string, percent: number): void {
  const table = `tt_loss_${dev.replace(/[^A-Za-z0-9_]/g, '_')}`;
  try {
    inNs(ns, 'nft', ['delete', 'table', 'inet', table]);
  } catch {
    // none yet
  }
  if (percent <= 0) return;
  inNs(ns, 'nft', ['add', 'table', 'inet', table]);
  inNs(ns, 'nft', ['add', 'chain', 'inet', table, 'out', '{ type filter hook postrouting priority 0; }']);
  const which = percent >= 100 ? [] : ['numgen', 'random', 'mod', '100', '<', String(Math.round(percent))];
  inNs(ns, 'nft', ['add', 'rule', 'inet', table, 'out', 'oifname', dev, ...which, 'counter', 'drop']);
}

/** Why nftables in namespaces cannot be used here, or null when it can. */
export function nftUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nft)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'ip netns / nft are not usable here';
  }
}

/**
 * A server and a client on a network that lets through only 443/tcp:
 *   server ns: veth 10.220.0.2/24 (the server listens there and on its loopback).
 *   client ns: veth 10.220.0.1/24, and an nftables table that drops every packet it sends except TCP to port 443
 *              (and its loopback), and every UDP packet it receives: no UDP at all, no other TCP port.
 * `serverChromium` runs Chromium in the server namespace (an unrestricted participant), `clientChromium` in the
 * restricted one.
 */
export interface Only443Setup {
  server: string;
  client: string;
  serverAddress: string;
  serverChromium: string;
  clientChromium: string;
  destroy(): void;
}

export function createOnly443Setup(tag = String(process.pid)): Only443Setup {
  const server = `tt-4s${tag}`;
  const client = `tt-4c${tag}`;
  const vs = `t4s${tag}`.slice(0, 15);
  const vc = `t4c${tag}`.slice(0, 15);
  const serverAddress = '10.220.0.2';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-netns-'));
  const destroy = destroyer([client, server], dir);
  try {
    linkedPair(client, server, vc, vs, '10.220.0.1', serverAddress);
    const rules = `table inet only443 {
  chain out { type filter hook output priority 0; policy drop; oif "lo" accept; tcp dport 443 accept; }
  chain in { type filter hook input priority 0; policy accept; iif "lo" accept; meta l4proto udp drop; }
}`;
    const file = path.join(dir, 'only443.nft');
    writeFileSync(file, rules);
    inNs(client, 'nft', ['-f', file]);
  } catch (e) {
    destroy();
    throw e;
  }
  return { server, client, serverAddress, serverChromium: chromiumLauncher(dir, server, 'chromium-server'), clientChromium: chromiumLauncher(dir, client, 'chromium-client'), destroy };
}
