// The bridge's UDP path with its fixed per-wake-up costs: CPU per received datagram of a UdpTransport (native
// receive and send, the defaults) that forwards every datagram it receives to `--fanout` receivers, as a meeting's
// bridge does, while the datagrams come one or a few at a time (the event loop wakes for each, as in a meeting of
// three). Before/after a change is measured by running this file in both trees, alternated (a git worktree of the
// old commit with this file copied in): the figure moves with per-wake-up work (immediates, callbacks), not with
// the routing. CPU is this process's (user + system) over the datagrams handled.
//
//   node bench/udp-echo.ts [--rounds 3] [--datagrams 30000] [--burst 1] [--fanout 2]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { BridgeCounters } from '../src/bridge/counters.ts';
import { UdpTransport } from '../src/bridge/udp-transport.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    datagrams: { type: 'string', default: '30000' },
    burst: { type: 'string', default: '1' },
    fanout: { type: 'string', default: '2' },
  },
});
const rounds = Number(values.rounds);
const total = Number(values.datagrams);
const burst = Number(values.burst);
const fanout = Number(values.fanout);

// sends `burst` datagrams every 1 ms and receives the echoes on the same socket (its port is the first line it prints)
const PEER = `
const d = require('dgram').createSocket('udp4');
const [port, total, burst] = process.argv.slice(1).map(Number);
const b = Buffer.alloc(1100, 7); b[0] = 0x80;
let sent = 0, echoes = 0;
d.on('message', () => echoes++);
d.bind(0, '127.0.0.1', () => {
  process.stdout.write(d.address().port + '\\n');
  const tick = () => {
    for (let i = 0; i < burst && sent < total; i++, sent++) d.send(b, port, '127.0.0.1');
    if (sent < total) setTimeout(tick, 1); else setTimeout(() => { process.stdout.write(echoes + '\\n'); d.close(); }, 200);
  };
  setTimeout(tick, 50);
});`;

async function run(): Promise<{ usPerDatagram: number; handled: number; echoes: number; perCall: number }> {
  let handled = 0;
  let peerPort = 0;
  let t: UdpTransport;
  const counters = new BridgeCounters();
  const sink = {
    onMedia(buf: Buffer) {
      handled++;
      for (let i = 0; i < fanout; i++) t.send(buf, 0, buf.length, peerPort, '127.0.0.1');
    },
    onStun() {},
    onDtls() {},
  };
  t = new UdpTransport(sink, counters, () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  const child = spawn(process.execPath, ['-e', PEER, String(port), String(total), String(burst)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: number[] = [];
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const p of parts) {
      lines.push(Number(p));
      if (lines.length === 1) peerPort = lines[0]!;
    }
  });
  await new Promise((r) => setTimeout(r, 30));
  const cpu0 = process.cpuUsage();
  await new Promise((r) => child.on('exit', r));
  const cpu = process.cpuUsage(cpu0);
  // (a tree from before the send queue has no syncCounters: its calls are counted as they happen)
  (t as unknown as { syncCounters?: () => void }).syncCounters?.();
  await t.close();
  return { usPerDatagram: (cpu.user + cpu.system) / Math.max(1, handled), handled, echoes: lines[1] ?? 0, perCall: counters.packetsOut / Math.max(1, counters.udpSendCalls) };
}

console.log(`udp-echo: ${rounds} rounds of ${total} datagrams, ${burst} every 1 ms, each sent on to ${fanout}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| round | µs CPU per received datagram | handled | echoes received | datagrams per send call |');
console.log('|---|---|---|---|---|');
for (let r = 1; r <= rounds; r++) {
  const { usPerDatagram, handled, echoes, perCall } = await run();
  console.log(`| ${r} | ${usPerDatagram.toFixed(2)} | ${handled} | ${echoes} | ${perCall.toFixed(2)} |`);
}
console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
