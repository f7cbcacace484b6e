// The install guide's three machines behind a NAT router, in network namespaces (iproute2 + iptables, root only):
//
//   participants (the "Internet", 198.18.0.0/24, a bridge `wan` inside the router namespace)
//     client namespace "eu" 198.18.0.10          client namespace "us" 198.18.0.20
//                      |                                    |
//   router namespace: wan 198.18.0.1, and the public addresses 198.18.0.5 (A), .6 (B), .7 (C) on wan;
//                     lan 10.0.0.1 (a bridge `lan`); ip_forward; MASQUERADE of 10.0.0.0/24 going out;
//                     port forwards (DNAT): 198.18.0.5 tcp 443 and 8443 -> A:8443; 198.18.0.6 udp 10000 and
//                     tcp 4443 -> B; 198.18.0.7 udp 10000 and tcp 4443 -> C; nothing else new gets in
//                     (FORWARD from wan: established or DNATed only).
//   machine namespaces on the private network, default route via 10.0.0.1:
//     A 10.0.0.5 (NATS, web/signal, focus)   B 10.0.0.6 (a bridge)   C 10.0.0.7 (a bridge)
//
// The clients have no route to 10.0.0.0/24: what reaches the machines from outside is the port forwards only. Each
// namespace's own loopback is up (a process on A reaches another on A at 127.0.0.1). Deleting the namespaces
// removes every veth, bridge and firewall rule; the host's interfaces, routes and firewall are untouched.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inNs, run } from './netns.ts';

export interface Machine {
  ns: string;
  /** Its address on the private network. */
  privateAddress: string;
  /** The router's public address forwarded to it. */
  publicAddress: string;
}

export interface ClientNet {
  ns: string;
  address: string;
  /** A launcher script that runs Chromium in this namespace (for launchBrowser). */
  chromium: string;
}

export interface ThreeMachines {
  router: string;
  a: Machine;
  b: Machine;
  c: Machine;
  eu: ClientNet;
  us: ClientNet;
  /** The router's firewall and NAT rules, as `iptables-save` prints them (for a failure message). */
  rules(): string;
  destroy(): void;
}

/** Runs `iptables` in the router namespace, one rule (or command) per call. */
function iptables(ns: string, ...rule: string[]): void {
  inNs(ns, 'iptables', rule);
}

export function createThreeMachines(tag = String(process.pid % 100000)): ThreeMachines {
  const router = `tt3r${tag}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-3m-'));
  const machine = (name: string, last: number): Machine => ({ ns: `tt3${name}${tag}`, privateAddress: `10.0.0.${last}`, publicAddress: `198.18.0.${last}` });
  const a = machine('a', 5);
  const b = machine('b', 6);
  const c = machine('c', 7);
  const client = (name: string, last: number): ClientNet => ({ ns: `tt3${name}${tag}`, address: `198.18.0.${last}`, chromium: path.join(dir, `chromium-${name}`) });
  const eu = client('eu', 10);
  const us = client('us', 20);
  const namespaces = [router, a.ns, b.ns, c.ns, eu.ns, us.ns];
  const destroy = () => {
    for (const ns of namespaces) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of namespaces) {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const br of ['lan', 'wan']) {
      run('ip', ['-n', router, 'link', 'add', br, 'type', 'bridge']);
      run('ip', ['-n', router, 'link', 'set', br, 'up']);
    }
    run('ip', ['-n', router, 'addr', 'add', '10.0.0.1/24', 'dev', 'lan']);
    run('ip', ['-n', router, 'addr', 'add', '198.18.0.1/24', 'dev', 'wan']);
    for (const m of [a, b, c]) run('ip', ['-n', router, 'addr', 'add', `${m.publicAddress}/32`, 'dev', 'wan']);
    // a veth from each namespace to one of the router's bridges (`eth0` inside, `<n>-<tag>` on the router)
    const plug = (ns: string, bridge: string, address: string, name: string) => {
      const outside = `v${name}${tag}`.slice(0, 15);
      run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', outside, 'netns', router]);
      run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', router, 'link', 'set', outside, 'master', bridge]);
      run('ip', ['-n', router, 'link', 'set', outside, 'up']);
    };
    for (const [m, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
      plug(m.ns, 'lan', m.privateAddress, name);
      run('ip', ['-n', m.ns, 'route', 'add', 'default', 'via', '10.0.0.1']);
    }
    for (const [cl, name] of [[eu, 'eu'], [us, 'us']] as const) {
      plug(cl.ns, 'wan', cl.address, name);
      writeFileSync(cl.chromium, `#!/bin/sh\nexec ip netns exec ${cl.ns} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
      chmodSync(cl.chromium, 0o755);
    }
    inNs(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    // the port forwards
    const forward = (m: Machine, proto: 'tcp' | 'udp', port: number, to: number) =>
      iptables(router, '-t', 'nat', '-A', 'PREROUTING', '-d', m.publicAddress, '-p', proto, '--dport', String(port), '-j', 'DNAT', '--to-destination', `${m.privateAddress}:${to}`);
    forward(a, 'tcp', 443, 8443);
    forward(a, 'tcp', 8443, 8443);
    for (const m of [b, c]) {
      forward(m, 'udp', 10000, 10000);
      forward(m, 'tcp', 4443, 4443);
    }
    // what the machines start themselves goes out from the router's own address
    iptables(router, '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.0.0.0/24', '-o', 'wan', '-j', 'MASQUERADE');
    // a firewall: from outside, only replies and the forwarded ports
    iptables(router, '-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED,DNAT', '-j', 'ACCEPT');
    iptables(router, '-A', 'FORWARD', '-i', 'wan', '-j', 'DROP');
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    router,
    a,
    b,
    c,
    eu,
    us,
    rules: () => inNs(router, 'iptables-save', []),
    destroy,
  };
}
