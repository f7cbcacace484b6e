// What `tertulia start` prints: every port line keeps its port and what it is for apart, whatever the ports' length
// (a user trial saw "13478/udp+tcpTURN (coturn)" run together with non-default ports).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/config.ts';
import { partsMessage, startupMessage } from '../../src/cli/commands/start-messages.ts';

test('startup message: each port line has its ports, a space, then what they are for', () => {
  const config = configSchema.parse({ turnPort: 13478, turnRelayPortMin: 48000, turnRelayPortMax: 48099, sipRtpPortMin: 47000, sipRtpPortMax: 47099 });
  const text = startupMessage({ config, httpsPort: 18443, httpPort: 18080, mediaPort: 20000, tcpMediaPort: 14443, sipPort: 15060, selfSigned: true, turn: { mode: 'coturn' } });
  const portLines = text.split('\n').filter((l) => /^ {2}\d/.test(l));
  assert.ok(portLines.length >= 8, text);
  for (const line of portLines) assert.match(line, /^ {2}\d+(-\d+)?\/(tcp|udp|udp\+tcp) +[A-Za-z(']/, line);
  assert.ok(portLines.some((l) => /^ {2}13478\/udp\+tcp +TURN \(coturn\)/.test(l)), text);
  assert.ok(portLines.some((l) => /^ {2}48000-48099\/udp +TURN relays/.test(l)), text);
});

test('a process without signal lists every port range its parts use (a user trial saw a bridge list only its media port)', () => {
  const bridge = configSchema.parse({ parts: 'bridge', natsUrl: 'nats://10.0.0.5:4222', plainRtpPortMin: 45000, plainRtpPortMax: 45099 });
  const b = partsMessage({ config: bridge, bridgeId: 'b1', mediaPort: 11000, tcpMediaPort: 4443, nats: 'nats://10.0.0.5:4222' });
  assert.match(b, /^ {2}11000\/udp +media/m);
  assert.match(b, /^ {2}45000-45099\/udp +plain RTP: relays between bridges/m);
  const recorderSip = configSchema.parse({ parts: 'recorder,sip', natsUrl: 'nats://10.0.0.5:4222', recorderPortMin: 47000, recorderPortMax: 47099, sipRtpPortMin: 48000, sipRtpPortMax: 48099 });
  const r = partsMessage({ config: recorderSip, bridgeId: undefined, mediaPort: undefined, sipPort: 5070, nats: 'nats://10.0.0.5:4222' });
  assert.match(r, /^ {2}47000-47099\/udp +recordings' media from the bridges/m);
  assert.match(r, /^ {2}5070\/udp\+tcp +SIP/m);
  assert.match(r, /^ {2}48000-48099\/udp +phone calls' audio/m);
  const focusOnly = partsMessage({ config: configSchema.parse({ parts: 'focus', natsUrl: 'nats://10.0.0.5:4222' }), bridgeId: undefined, mediaPort: undefined, nats: 'nats://10.0.0.5:4222' });
  assert.match(focusOnly, /No port to open/);
});
