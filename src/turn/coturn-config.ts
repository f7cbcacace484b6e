// The turnserver.conf Tertulia writes for its coturn child (<dataDir>/turn/turnserver.conf, mode 0600: it holds
// the shared secret). Only what Tertulia needs: TURN REST credentials (use-auth-secret), its own ports, no
// TLS/DTLS of coturn's own (TLS ends in the HTTPS listener, tls-demux.ts), no CLI, no database, logs on stdout.
// Relaying is refused to every private, loopback and special-purpose range, except this machine's own addresses
// (the bridge's candidates) and the admin's turnAllowedPeers: a stranger with credentials cannot reach the
// server's private network through it.

/** Ranges a relay may never reach (RFC 6890 special-purpose blocks; coturn's own example list). */
const DENIED_PEER_RANGES = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.0.0.0-192.0.0.255',
  '192.0.2.0-192.0.2.255',
  '192.88.99.0-192.88.99.255',
  '192.168.0.0-192.168.255.255',
  '198.18.0.0-198.19.255.255',
  '198.51.100.0-198.51.100.255',
  '203.0.113.0-203.0.113.255',
  '240.0.0.0-255.255.255.255',
  '::1',
  '64:ff9b::-64:ff9b::ffff:ffff',
  '::ffff:0.0.0.0-::ffff:255.255.255.255',
  '100::-100::ffff:ffff:ffff:ffff',
  '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff',
  '2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export interface CoturnSettings {
  secret: string;
  realm: string;
  /** Addresses coturn listens on ('' = all); 127.0.0.1 is always one of them (the TLS demux connects there). */
  listenAddress: string;
  port: number;
  /** The local address relays are opened on (the client's socket address when empty). */
  relayAddress: string;
  /** publicAddress when it is an IPv4 address: the relayed address browsers are told (external-ip). */
  externalAddress: string;
  relayPortMin: number;
  relayPortMax: number;
  /** This machine's addresses and turnAllowedPeers: allowed although in a denied range. */
  allowedPeers: string[];
  pidFile: string;
  userDb: string;
}

/** A value coturn's config reader takes as one token: no line breaks, no comment sign, no spaces. */
function safe(value: string, what: string, secret = false): string {
  if (!/^[^\s#]+$/.test(value)) throw new Error(`TURN: ${what} cannot be written into coturn's configuration${secret ? ' (spaces or #)' : `: ${JSON.stringify(value)}`}`);
  return value;
}

export function coturnConfig(s: CoturnSettings): string {
  const lines = [
    '# written by tertulia at each start; changes here are overwritten',
    `listening-port=${s.port}`,
  ];
  if (s.listenAddress && s.listenAddress !== '0.0.0.0' && s.listenAddress !== '::') {
    lines.push(`listening-ip=${safe(s.listenAddress, 'listenAddress')}`);
    if (s.listenAddress !== '127.0.0.1') lines.push('listening-ip=127.0.0.1');
  }
  if (s.relayAddress) lines.push(`relay-ip=${safe(s.relayAddress, 'the relay address')}`);
  if (s.externalAddress && s.relayAddress) lines.push(`external-ip=${safe(s.externalAddress, 'publicAddress')}/${s.relayAddress}`);
  lines.push(
    `min-port=${s.relayPortMin}`,
    `max-port=${s.relayPortMax}`,
    'use-auth-secret',
    `static-auth-secret=${safe(s.secret, 'turnSecret', true)}`,
    `realm=${safe(s.realm, 'the realm')}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-rfc5780',
    'no-software-attribute',
    'no-multicast-peers',
    // browsers relay UDP only: no TCP allocations (RFC 6062), so a guest's credentials never open TCP to this
    // machine's own services (NATS, metrics)
    'no-tcp-relay',
    'stale-nonce=600',
    'user-quota=12',
    'total-quota=1200',
    'log-file=stdout',
    'simple-log',
    `pidfile=${safe(s.pidFile, 'the data directory')}`,
    `userdb=${safe(s.userDb, 'the data directory')}`,
    ...DENIED_PEER_RANGES.map((r) => `denied-peer-ip=${r}`),
    ...s.allowedPeers.map((p) => `allowed-peer-ip=${safe(p, 'turnAllowedPeers')}`),
  );
  return lines.join('\n') + '\n';
}
