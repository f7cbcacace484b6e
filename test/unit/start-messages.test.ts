// What `tertulia start` prints: every port line keeps its port and what it is for apart, whatever the ports' length
// (a user trial saw "13478/udp+tcpTURN (coturn)" run together with non-default ports).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/config.ts';
import { startupMessage } from '../../src/cli/commands/start-messages.ts';

test('startup message: each port line has its ports, a space, then what they are for', () => {
  const config = configSchema.parse({ turnPort: 13478, turnRelayPortMin: 48000, turnRelayPortMax: 48099, sipRtpPortMin: 47000, sipRtpPortMax: 47099 });
  const text = startupMessage({ config, httpsPort: 18443, httpPort: 18080, mediaPort: 20000, tcpMediaPort: 14443, sipPort: 15060, selfSigned: true, turn: { mode: 'coturn' } });
  const portLines = text.split('\n').filter((l) => /^ {2}\d/.test(l));
  assert.ok(portLines.length >= 8, text);
  for (const line of portLines) assert.match(line, /^ {2}\d+(-\d+)?\/(tcp|udp|udp\+tcp) +[A-Za-z(']/, line);
  assert.ok(portLines.some((l) => /^ {2}13478\/udp\+tcp +TURN \(coturn\)/.test(l)), text);
  assert.ok(portLines.some((l) => /^ {2}48000-48099\/udp +TURN relays/.test(l)), text);
});
