// The bridge's receive path alone: CPU per received datagram of UdpTransport, native recvmmsg batches
// (nativeReceive) against dgram reading the module's socket (one read and one callback per datagram, arrival time by
// ioctl), alternated run by run in one process. A child process sends bursts of RTP-sized datagrams; the sink asks
// arrivalMs() for each, as the router does, and does nothing else. CPU is this process's (user + system) over the
// datagrams handled.
//
//   node bench/udp-receive.ts [--rounds 5] [--datagrams 100000] [--burst 8]
//
// `--burst`: datagrams the sender sends back to back every 0.5 ms (what arrives together: 1-3 in a meeting of
// three, tens for a busy bridge).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { BridgeCounters } from '../src/bridge/counters.ts';
import { UdpTransport } from '../src/bridge/udp-transport.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    datagrams: { type: 'string', default: '100000' },
    burst: { type: 'string', default: '8' },
  },
});
const rounds = Number(values.rounds);
const total = Number(values.datagrams);
const burst = Number(values.burst);

const SENDER = `
const d = require('dgram').createSocket('udp4');
const [port, total, burst] = process.argv.slice(1).map(Number);
const b = Buffer.alloc(1100, 7); b[0] = 0x80;
let sent = 0;
const tick = () => {
  for (let i = 0; i < burst && sent < total; i++, sent++) d.send(b, port, '127.0.0.1');
  if (sent < total) setTimeout(tick, 0.5); else setTimeout(() => d.close(), 50);
};
tick();`;

async function run(nativeReceive: boolean): Promise<{ usPerDatagram: number; handled: number }> {
  let handled = 0;
  let sum = 0;
  let t: UdpTransport;
  const sink = {
    onMedia() {
      handled++;
      sum += t.arrivalMs();
    },
    onStun() {},
    onDtls() {},
  };
  t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive });
  const port = await t.bind('127.0.0.1', 0);
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['-e', SENDER, String(port), String(total), String(burst)], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, 100));
  const cpu = process.cpuUsage(cpu0);
  await t.close();
  void sum;
  return { usPerDatagram: (cpu.user + cpu.system) / Math.max(1, handled), handled };
}

console.log(`udp-receive: ${rounds} rounds of ${total} datagrams in bursts of ${burst}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| round | path | µs CPU per datagram | handled |');
console.log('|---|---|---|---|');
for (let r = 1; r <= rounds; r++) {
  for (const nativeReceive of r % 2 ? [false, true] : [true, false]) {
    const { usPerDatagram, handled } = await run(nativeReceive);
    console.log(`| ${r} | ${nativeReceive ? 'native recvmmsg' : 'dgram + ioctl'} | ${usPerDatagram.toFixed(2)} | ${handled} |`);
  }
}
console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
