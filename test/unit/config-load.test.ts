// Settings: defaults < config file < environment (TERTULIA_*) < command-line overrides; bad values stop with
// a ConfigError that names the setting.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, envNames, loadConfig } from '../../src/config/config.ts';
import { strayEnvNames } from '../../src/config/stray-env.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = path.join(tmp, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

/** No ambient configuration: no TERTULIA_CONFIG and no ./tertulia.json lookup. */
const noEnv = { TERTULIA_CONFIG: '' };

test('defaults', () => {
  const c = loadConfig({ env: noEnv });
  assert.deepEqual(c, {
    listenAddress: '0.0.0.0',
    httpsPort: 8443,
    httpPort: 8080,
    mediaPort: 10000,
    tcpMediaPort: 4443,
    publicAddress: '',
    stunServer: '',
    dataDir: path.resolve('data'),
    tlsCert: '',
    tlsKey: '',
    domain: '',
    acmeEmail: '',
    acmeDirectoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    parts: ['signal', 'focus', 'bridge', 'recorder', 'sip'],
    natsUrl: '',
    natsUser: '',
    natsPassword: '',
    natsToken: '',
    bridgeId: '',
    region: '',
    regionHeader: '',
    maxBridgeStress: 0.85,
    mediaWorkers: 0,
    mediaWorkerSpan: 10,
    mediaWorkersOnDemand: true,
    nativeSend: true,
    nativeReceive: true,
    nativeForward: true,
    pacer: false,
    pauseUnusedLayers: true,
    plainRtpPortMin: 40000,
    plainRtpPortMax: 40999,
    lastN: 0,
    maxSessionMlines: 256,
    receiveSlotsFrom: 21,
    receiveAudioSlots: 3,
    receiveVideoSlots: 9,
    renegotiationBurst: 6,
    renegotiationRate: 2,
    participantTimeout: 20,
    serveSourceMaps: false,
    joinTimeout: 30,
    promptTimeout: 300,
    maxConnectionsPerAddress: 100,
    maxParticipantsPerAddress: 50,
    maxRoomsPerAddressPerMinute: 10,
    maxRooms: 1000,
    maxBoardMemoryMb: 16,
    maxParticipantsPerRoom: 100,
    maxEndpointsPerBridge: 500,
    bridgeHeartbeat: 0.5,
    bridgeFailureTimeout: 2,
    bridgeDrainTimeout: 60,
    metricsAddress: '',
    metricsToken: '',
    resourcesPort: 0,
    recordingWidth: 1280,
    recordingHeight: 720,
    recordingFps: 30,
    recordingVideoBitrate: 2500,
    recordingLayout: 'grid',
    recordingMode: 'composed',
    maxRecordingsPerRecorder: 4,
    recordingRetentionDays: 0,
    recordingMinFreeMb: 1024,
    recorderId: '',
    recorderPortMin: 41000,
    recorderPortMax: 41999,
    recorderAddress: '127.0.0.1',
    logLevel: 'info',
    authMode: 'open',
    allowGuests: true,
    jwtAppId: '',
    jwtAcceptedIssuers: [],
    jwtAudience: ['jitsi'],
    jwtSecret: '',
    adminAccounts: [],
    jwtPublicKeys: [],
    webhookUrls: [],
    webhookSecret: '',
    adminApiToken: '',
    adminApiJwt: false,
    sipDialInNumbers: {},
    sipLanguage: 'en',
    embedAllowedOrigins: [],
    sipAddress: '0.0.0.0',
    sipPort: 5060,
    sipPublicAddress: '',
    sipMediaAddress: '127.0.0.1',
    sipMixOnThreads: false,
    sipRtpPortMin: 42000,
    sipRtpPortMax: 42999,
    sipTlsPort: 5061,
    sipTrunkUri: '',
    sipTrunkProxy: '',
    sipTrunkUser: '',
    sipTrunkPassword: '',
    sipTrunkRegister: false,
    sipTrunkFrom: '',
    sipDialOutAnonymous: false,
    turn: 'auto',
    turnSecret: '',
    turnCredentialTtl: 86400,
    turnPort: 3478,
    turnRelayPortMin: 43000,
    turnRelayPortMax: 43999,
    turnAllowedPeers: [],
    turnExternalUrls: [],
    p2p: true,
  });
});

test('webhook and admin API settings: URLs checked, a secret and a token of 16 characters at least', () => {
  const secret = 'a-long-shared-secret';
  const c = loadConfig({ env: { ...noEnv, TERTULIA_WEBHOOK_URLS: 'https://hooks.example.org/t, http://10.0.0.9:8000/x', TERTULIA_WEBHOOK_SECRET: secret } });
  assert.deepEqual(c.webhookUrls, ['https://hooks.example.org/t', 'http://10.0.0.9:8000/x']);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_WEBHOOK_URLS: 'ftp://x.org/a', TERTULIA_WEBHOOK_SECRET: secret } }), /webhookUrls \(from TERTULIA_WEBHOOK_URLS\): each webhook URL must be an http/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_WEBHOOK_URLS: 'not a url', TERTULIA_WEBHOOK_SECRET: secret } }), /webhookUrls/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_WEBHOOK_URLS: 'https://hooks.example.org/t' } }), /webhookUrls needs webhookSecret/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_ADMIN_API_TOKEN: 'short' } }), /adminApiToken must be at least 16/);
  assert.equal(loadConfig({ env: { ...noEnv, TERTULIA_ADMIN_API_TOKEN: 'x'.repeat(32) } }).adminApiToken, 'x'.repeat(32));
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_ADMIN_API_JWT: 'true' } }), /adminApiJwt needs authMode "token"/);
});

test('embedAllowedOrigins: origins without a path (a trailing slash dropped), or *; anything else is refused', () => {
  assert.deepEqual(loadConfig({ env: noEnv }).embedAllowedOrigins, []);
  const c = loadConfig({ env: { ...noEnv, TERTULIA_EMBED_ALLOWED_ORIGINS: 'https://intranet.example.org/, http://127.0.0.1:8000,https://*.example.net' } });
  assert.deepEqual(c.embedAllowedOrigins, ['https://intranet.example.org', 'http://127.0.0.1:8000', 'https://*.example.net']);
  assert.deepEqual(loadConfig({ env: noEnv, overrides: { embedAllowedOrigins: ['*'] } }).embedAllowedOrigins, ['*']);
  for (const bad of ['intranet.example.org', 'https://example.org/path', "https://x.org 'unsafe-inline'", 'javascript:alert(1)', "'self'"]) {
    assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_EMBED_ALLOWED_ORIGINS: bad } }), /embedAllowedOrigins/, bad);
  }
});

test('access settings: mode, guests flag and lists from the environment', () => {
  const c = loadConfig({
    env: { ...noEnv, TERTULIA_AUTH_MODE: 'token', TERTULIA_ALLOW_GUESTS: 'false', TERTULIA_JWT_AUDIENCE: 'jitsi, meet', TERTULIA_JWT_PUBLIC_KEYS: 'a.pem,b.pem' },
  });
  assert.equal(c.authMode, 'token');
  assert.equal(c.allowGuests, false);
  assert.deepEqual(c.jwtAudience, ['jitsi', 'meet']);
  assert.deepEqual(c.jwtPublicKeys, ['a.pem', 'b.pem']);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_AUTH_MODE: 'ldap' } }), /authMode/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_ALLOW_GUESTS: 'maybe' } }), /allowGuests/);
});

test('source maps are off unless turned on, and only by a yes/no value', () => {
  assert.equal(loadConfig({ env: noEnv }).serveSourceMaps, false);
  assert.equal(loadConfig({ env: { ...noEnv, TERTULIA_SERVE_SOURCE_MAPS: 'yes' } }).serveSourceMaps, true);
  assert.equal(loadConfig({ env: noEnv, overrides: { serveSourceMaps: 'false' } }).serveSourceMaps, false);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SERVE_SOURCE_MAPS: 'sometimes' } }), /serveSourceMaps/);
});

test('environment variable names', () => {
  assert.equal(envNames.httpsPort, 'TERTULIA_HTTPS_PORT');
  assert.equal(envNames.listenAddress, 'TERTULIA_LISTEN_ADDRESS');
  assert.equal(envNames.tlsCert, 'TERTULIA_TLS_CERT');
  assert.equal(envNames.participantTimeout, 'TERTULIA_PARTICIPANT_TIMEOUT');
});

test('file < environment < overrides', () => {
  const f = file('all.json', { httpsPort: 9001, httpPort: 9002, mediaPort: 9003, publicAddress: '203.0.113.7', logLevel: 'warn' });
  const fromFile = loadConfig({ file: f, env: noEnv });
  assert.equal(fromFile.httpsPort, 9001);
  assert.equal(fromFile.httpPort, 9002);
  assert.equal(fromFile.publicAddress, '203.0.113.7');

  const env = { ...noEnv, TERTULIA_HTTPS_PORT: '9101', TERTULIA_HTTP_PORT: '9102', TERTULIA_LOG_LEVEL: 'debug' };
  const fromEnv = loadConfig({ file: f, env });
  assert.equal(fromEnv.httpsPort, 9101, 'env beats file');
  assert.equal(fromEnv.httpPort, 9102);
  assert.equal(fromEnv.mediaPort, 9003, 'file beats default');
  assert.equal(fromEnv.logLevel, 'debug');

  const fromCli = loadConfig({ file: f, env, overrides: { httpsPort: '9201', dataDir: 'elsewhere', mediaPort: undefined } });
  assert.equal(fromCli.httpsPort, 9201, 'overrides beat env');
  assert.equal(fromCli.httpPort, 9102);
  assert.equal(fromCli.mediaPort, 9003, 'an undefined override changes nothing');
  assert.equal(fromCli.dataDir, path.resolve('elsewhere'), 'dataDir is made absolute');
});

test('TERTULIA_CONFIG names the file; an empty environment value is ignored', () => {
  const f = file('env.json', { mediaPort: 12000, listenAddress: '127.0.0.1' });
  const c = loadConfig({ env: { TERTULIA_CONFIG: f, TERTULIA_MEDIA_PORT: '' } });
  assert.equal(c.mediaPort, 12000);
  assert.equal(c.listenAddress, '127.0.0.1');
});

test('certificates by ACME and the metrics listener: domain, e-mail, directory, address, token', () => {
  const c = loadConfig({
    env: { ...noEnv, TERTULIA_DOMAIN: 'Meet.Example.org', TERTULIA_ACME_EMAIL: 'admin@example.org', TERTULIA_METRICS_TOKEN: 's3cret' },
    overrides: { acmeDirectoryUrl: 'https://127.0.0.1:14000/dir', metricsAddress: '[::1]:9464' },
  });
  assert.equal(c.domain, 'meet.example.org');
  assert.equal(c.acmeEmail, 'admin@example.org');
  assert.equal(c.acmeDirectoryUrl, 'https://127.0.0.1:14000/dir');
  assert.equal(c.metricsAddress, '[::1]:9464');
  assert.equal(c.metricsToken, 's3cret');
});

test('ports and timeouts from strings; 0 turns the HTTP redirect off', () => {
  const c = loadConfig({ env: { ...noEnv, TERTULIA_HTTP_PORT: '0', TERTULIA_PARTICIPANT_TIMEOUT: '2.5' }, overrides: { httpsPort: ' 443 ' } });
  assert.equal(c.httpPort, 0);
  assert.equal(c.httpsPort, 443);
  assert.equal(c.participantTimeout, 2.5);
});

test('bad values are ConfigErrors that name the setting', () => {
  const bad: [string, () => unknown, RegExp][] = [
    ['port too big', () => loadConfig({ env: noEnv, overrides: { httpsPort: 70000 } }), /httpsPort/],
    ['negative port', () => loadConfig({ env: noEnv, overrides: { mediaPort: -1 } }), /mediaPort/],
    ['fractional port', () => loadConfig({ env: noEnv, overrides: { httpPort: '80.5' } }), /httpPort/],
    ['word for a port', () => loadConfig({ env: { ...noEnv, TERTULIA_HTTPS_PORT: 'https' } }), /httpsPort/],
    ['empty option for a port', () => loadConfig({ env: noEnv, overrides: { httpsPort: '' } }), /httpsPort/],
    ['hex port', () => loadConfig({ env: noEnv, overrides: { httpsPort: '0x1F' } }), /httpsPort/],
    ['boolean port', () => loadConfig({ file: file('bool.json', { httpsPort: true }), env: noEnv }), /httpsPort/],
    ['null port', () => loadConfig({ file: file('null.json', { httpPort: null }), env: noEnv }), /httpPort/],
    ['log level', () => loadConfig({ env: noEnv, overrides: { logLevel: 'loud' } }), /logLevel/],
    ['timeout 0', () => loadConfig({ env: noEnv, overrides: { participantTimeout: 0 } }), /participantTimeout/],
    ['cap 0', () => loadConfig({ env: { ...noEnv, TERTULIA_MAX_ROOMS: '0' } }), /maxRooms/],
    ['cap not a whole number', () => loadConfig({ env: noEnv, overrides: { maxConnectionsPerAddress: '2.5' } }), /maxConnectionsPerAddress/],
    ['join timeout 0', () => loadConfig({ env: noEnv, overrides: { joinTimeout: 0 } }), /joinTimeout/],
    ['unknown key in file', () => loadConfig({ file: file('unknown.json', { httpsport: 1 }), env: noEnv }), /httpsport/],
    ['not JSON', () => loadConfig({ file: file('broken.json', '{ "httpsPort": '), env: noEnv }), /broken\.json/],
    ['not an object', () => loadConfig({ file: file('array.json', [1, 2]), env: noEnv }), /array\.json/],
    ['missing file', () => loadConfig({ file: path.join(tmp, 'missing.json'), env: noEnv }), /missing\.json/],
    ['recorder range under four ports', () => loadConfig({ env: noEnv, overrides: { recorderPortMin: 41000, recorderPortMax: 41002 } }), /recorderPortMin/],
    ['recorder range over the bridge range', () => loadConfig({ env: noEnv, overrides: { recorderPortMin: 40500, recorderPortMax: 41500 } }), /plainRtpPortMin\.\.plainRtpPortMax \(UDP 40000-40999\) and recorderPortMin/],
    ['phone RTP range over the bridge range', () => loadConfig({ env: noEnv, overrides: { sipRtpPortMin: 40900, sipRtpPortMax: 40999 } }), /plainRtpPortMin.*sipRtpPortMin/],
    ['TURN relay range over the bridge range', () => loadConfig({ env: noEnv, overrides: { turnRelayPortMin: 39000, turnRelayPortMax: 40000 } }), /plainRtpPortMin.*turnRelayPortMin/],
    ['TURN port on the media port', () => loadConfig({ env: noEnv, overrides: { turnPort: 10000 } }), /mediaPort \(UDP 10000\) and turnPort/],
    ['HTTP port on the HTTPS port', () => loadConfig({ env: noEnv, overrides: { httpPort: 8443 } }), /httpsPort \(TCP 8443\) and httpPort/],
    ['ICE-TCP port on the HTTPS port', () => loadConfig({ env: noEnv, overrides: { tcpMediaPort: 8443 } }), /httpsPort.*tcpMediaPort/],
    ['SIP port on the media port', () => loadConfig({ env: noEnv, overrides: { sipPort: 10000 } }), /mediaPort.*sipPort/],
    ['SIP TLS port on the HTTPS port', () => loadConfig({ env: noEnv, overrides: { sipTlsPort: 8443, tlsCert: 'c.pem', tlsKey: 'k.pem' } }), /httpsPort.*sipTlsPort/],
    ['metrics port on the HTTPS port', () => loadConfig({ env: noEnv, overrides: { metricsAddress: '127.0.0.1:8443' } }), /httpsPort.*metricsAddress/],
    ['public address a word', () => loadConfig({ env: noEnv, overrides: { publicAddress: 'my-server' } }), /publicAddress is an IP address/],
    ['public address with a port', () => loadConfig({ env: noEnv, overrides: { publicAddress: '203.0.113.7:10000' } }), /publicAddress/],
    ['listen address a name', () => loadConfig({ env: noEnv, overrides: { listenAddress: 'localhost' } }), /listenAddress is an IP address/],
    ['SIP media address IPv6', () => loadConfig({ env: noEnv, overrides: { sipMediaAddress: '::1' } }), /sipMediaAddress is an IPv4 address/],
    ['SIP RTP range of one port', () => loadConfig({ env: noEnv, overrides: { sipRtpPortMin: 42000, sipRtpPortMax: 42000 } }), /sipRtpPortMin/],
    ['domain without a dot', () => loadConfig({ env: noEnv, overrides: { domain: 'meet' } }), /domain/],
    ['domain with a port', () => loadConfig({ env: noEnv, overrides: { domain: 'meet.example.org:443' } }), /domain/],
    ['domain and own certificate', () => loadConfig({ env: noEnv, overrides: { domain: 'meet.example.org', tlsCert: 'c.pem', tlsKey: 'k.pem' } }), /domain.*tlsCert/],
    ['domain without the HTTP port', () => loadConfig({ env: noEnv, overrides: { domain: 'meet.example.org', httpPort: 0 } }), /domain.*httpPort/],
    ['ACME e-mail', () => loadConfig({ env: noEnv, overrides: { acmeEmail: 'admin at example.org' } }), /acmeEmail/],
    ['ACME directory', () => loadConfig({ env: noEnv, overrides: { acmeDirectoryUrl: 'letsencrypt' } }), /acmeDirectoryUrl/],
    ['metrics address without a port', () => loadConfig({ env: noEnv, overrides: { metricsAddress: '127.0.0.1' } }), /metricsAddress/],
    ['metrics port too big', () => loadConfig({ env: noEnv, overrides: { metricsAddress: '127.0.0.1:99999' } }), /metricsAddress/],
  ];
  // a bridge-only process may use any range (the recorder runs elsewhere), and coturn's port (signal runs it)
  assert.equal(loadConfig({ env: noEnv, overrides: { parts: 'bridge', plainRtpPortMin: 41000, plainRtpPortMax: 41499 } }).plainRtpPortMin, 41000);
  assert.equal(loadConfig({ env: noEnv, overrides: { parts: 'bridge', turnPort: 10000 } }).turnPort, 10000);
  // the same number over UDP and TCP, ports left to the system, TURN off, and two specific addresses do not collide
  assert.equal(loadConfig({ env: noEnv, overrides: { tcpMediaPort: 10000 } }).tcpMediaPort, 10000);
  assert.equal(loadConfig({ env: noEnv, overrides: { httpsPort: 0, httpPort: 0, mediaPort: 0, sipPort: 0, sipTlsPort: 0 } }).httpsPort, 0);
  assert.equal(loadConfig({ env: noEnv, overrides: { turn: 'off', turnPort: 10000 } }).turnPort, 10000);
  // SIP over TLS listens only with a certificate
  assert.equal(loadConfig({ env: noEnv, overrides: { sipTlsPort: 8443 } }).sipTlsPort, 8443);
  assert.equal(loadConfig({ env: noEnv, overrides: { listenAddress: '10.0.0.5', sipAddress: '10.0.0.6', sipPort: 10000 } }).sipPort, 10000);
  assert.equal(loadConfig({ env: noEnv, overrides: { publicAddress: ' 2001:db8::7 ' } }).publicAddress, '2001:db8::7');
  for (const [what, run, pattern] of bad) {
    assert.throws(run, (e: unknown) => e instanceof ConfigError && pattern.test(e.message), what);
  }
});

test('dial-in numbers as JSON from the environment, checked; the prompts language', () => {
  const c = loadConfig({ env: { ...noEnv, TERTULIA_SIP_DIAL_IN_NUMBERS: '{"US": ["+1 555 0100"], "Spain (toll free)": ["+34 900 000 000", "910 000 000"]}', TERTULIA_SIP_LANGUAGE: 'es' } });
  assert.deepEqual(c.sipDialInNumbers, { US: ['+1 555 0100'], 'Spain (toll free)': ['+34 900 000 000', '910 000 000'] });
  assert.equal(c.sipLanguage, 'es');
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_DIAL_IN_NUMBERS: '{"US": ["call me"]}' } }), /sipDialInNumbers.*phone number/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_DIAL_IN_NUMBERS: '+1 555 0100' } }), /sipDialInNumbers/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_DIAL_IN_NUMBERS: '{"US": []}' } }), /sipDialInNumbers/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_LANGUAGE: 'fr' } }), /sipLanguage/);
});

test('SIP trunk settings: URIs checked, the register flag read', () => {
  const c = loadConfig({ env: { ...noEnv, TERTULIA_SIP_TRUNK_URI: 'sip:sip.example.net:5060', TERTULIA_SIP_TRUNK_PROXY: 'sip:10.0.0.9', TERTULIA_SIP_TRUNK_REGISTER: 'yes', TERTULIA_SIP_TRUNK_FROM: '+34910000000' } });
  assert.equal(c.sipTrunkUri, 'sip:sip.example.net:5060');
  assert.equal(c.sipTrunkProxy, 'sip:10.0.0.9');
  assert.equal(c.sipTrunkRegister, true);
  assert.equal(c.sipTrunkFrom, '+34910000000');
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_TRUNK_URI: 'http://sip.example.net' } }), /sipTrunkUri is a sip: URI/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_SIP_TRUNK_FROM: '<sip:x@y>' } }), /sipTrunkFrom/);
});

test('TURN settings: mode, secret, external URLs and relay range are checked', () => {
  const c = loadConfig({ env: { ...noEnv, TERTULIA_TURN: 'off', TERTULIA_TURN_EXTERNAL_URLS: 'turns:turn.example.org:5349?transport=tcp, turn:[2001:db8::1]:3478', TERTULIA_TURN_SECRET: 'a-shared-secret-0123' } });
  assert.equal(c.turn, 'off');
  assert.deepEqual(c.turnExternalUrls, ['turns:turn.example.org:5349?transport=tcp', 'turn:[2001:db8::1]:3478']);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_TURN: 'sometimes' } }), /turn/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_TURN_SECRET: 'short' } }), /turnSecret must be at least 16/);
  const spaced = 'has a space in it 0123';
  assert.throws(
    () => loadConfig({ env: { ...noEnv, TERTULIA_TURN_SECRET: spaced } }),
    (e: Error) => /turnSecret cannot hold spaces/.test(e.message) && !e.message.includes(spaced),
  );
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_TURN_EXTERNAL_URLS: 'turns:turn.example.org' } }), /turnExternalUrls needs turnSecret/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_TURN_EXTERNAL_URLS: 'https://turn.example.org', TERTULIA_TURN_SECRET: 'a-shared-secret-0123' } }), /each TURN URL/);
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_TURN_RELAY_PORT_MIN: '5000', TERTULIA_TURN_RELAY_PORT_MAX: '5000' } }), /turnRelayPortMin/);
});

test('a bad value from the environment names its variable; a misspelled TERTULIA_ variable is found, with the nearest name', () => {
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_HTTPS_PORT: 'https' } }), /httpsPort \(from TERTULIA_HTTPS_PORT\)/);
  // the command line wins over the environment: its bad value is not blamed on the variable
  assert.throws(() => loadConfig({ env: { ...noEnv, TERTULIA_HTTPS_PORT: '443' }, overrides: { httpsPort: 'x' } }), (e: Error) => /httpsPort/.test(e.message) && !/TERTULIA_HTTPS_PORT/.test(e.message));
  const stray = strayEnvNames({ TERTULIA_HTTPS_PROT: '443', TERTULIA_PUBLIC_ADRESS: '203.0.113.7', TERTULIA_WHATEVER_ELSE_ENTIRELY: '1', TERTULIA_HTTPS_PORT: '443', TERTULIA_CONFIG: 'x.json', TERTULIA_TEST_KEEP: '1', HOME: '/root' });
  assert.deepEqual(stray, [
    "TERTULIA_HTTPS_PROT is not a setting's variable (did you mean TERTULIA_HTTPS_PORT?): it is ignored",
    "TERTULIA_PUBLIC_ADRESS is not a setting's variable (did you mean TERTULIA_PUBLIC_ADDRESS?): it is ignored",
    "TERTULIA_WHATEVER_ELSE_ENTIRELY is not a setting's variable: it is ignored",
  ]);
});
