// The SIP gateway warms the bridges up when a call arrives (src/sip/index.ts, bus/bridge-warm-up.ts): an INVITE
// means a caller is on the way (PIN menu, then the join), so idle media workers on demand start meanwhile; however
// many INVITEs come, the bus hears at most one warm-up a second from the gateway. The real gateway on a UDP port,
// raw INVITEs, the in-memory bus (no signal answers: the calls themselves fail, which is not what is checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startSip } from '../../src/sip/index.ts';
import { TEST_OFFER } from '../helpers/sipp.ts';

function invite(port: number, local: number, n: number): Buffer {
  const sdp = TEST_OFFER;
  return Buffer.from(
    [
      `INVITE sip:WarmRoom@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-warm-${n}`,
      `From: <sip:100@127.0.0.1>;tag=w${n}`,
      `To: <sip:WarmRoom@127.0.0.1>`,
      `Call-ID: warm-${n}@127.0.0.1`,
      'CSeq: 1 INVITE',
      `Contact: <sip:100@127.0.0.1:${local}>`,
      'Max-Forwards: 70',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n'),
  );
}

test('an INVITE warms the bridges up; a burst of them, once', { timeout: 30_000 }, async () => {
  const bus = new MemoryBus();
  let warmUps = 0;
  bus.subscribe('bridge.warm', () => warmUps++);
  const config = configSchema.parse({ sipAddress: '127.0.0.1', sipPort: 0, sipTlsPort: 0, sipMediaAddress: '127.0.0.1' });
  const sip = await startSip({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((r) => phone.bind(0, '127.0.0.1', r));
  const local = phone.address().port;
  const responses: string[] = [];
  phone.on('message', (m) => responses.push(m.toString('latin1').split('\r\n', 1)[0]!));
  try {
    assert.equal(warmUps, 0);
    for (let n = 0; n < 5; n++) phone.send(invite(sip.port, local, n), sip.port, '127.0.0.1');
    for (let i = 0; i < 100 && responses.length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(responses.length >= 5, `the gateway answered the INVITEs (${responses.join(' | ')})`);
    assert.equal(warmUps, 1, 'five INVITEs within a second: one warm-up');
  } finally {
    phone.close();
    await sip.close();
  }
});
