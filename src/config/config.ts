// Settings: defaults < config file (JSON) < environment variables < command-line options.
// Every source is validated; a bad value stops the start with a message naming the setting.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isIP, isIPv4 } from 'node:net';
import { z } from 'zod';
import { dialInNumbersSchema } from '../protocol/dial-in-messages.ts';
import { MAX_E2EE_PARTICIPANTS } from '../protocol/e2ee-messages.ts';
import { portClaims, portCollision } from './port-plan.ts';

/**
 * A number, or a string that is one written in decimal (environment variables and options are strings).
 * Not z.coerce: that turned null, true and "" into 0 or 1 (an empty --https-port= meant a random port).
 */
const decimal = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), schema);
const port = decimal(z.number().int().min(0).max(65535));
/** The parts one process can run. `web` is served by `signal`, so either name means that part. */
export const PART_NAMES = ['signal', 'focus', 'bridge', 'recorder', 'sip'] as const;
export type PartName = (typeof PART_NAMES)[number];
/** "all", or a comma-separated list (a JSON array in the file) of web/signal, focus, bridge, recorder, sip. */
const partsList = z.preprocess(
  (v) => {
    const items = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v;
    if (!Array.isArray(items)) return items;
    const out: unknown[] = [];
    for (const item of items) {
      const name = typeof item === 'string' ? item.trim().toLowerCase() : item;
      for (const one of name === 'all' ? PART_NAMES : [name === 'web' ? 'signal' : name]) if (!out.includes(one)) out.push(one);
    }
    return out;
  },
  z.array(z.enum(PART_NAMES, { message: 'parts are web (or signal), focus, bridge, recorder, sip, or all' })).min(1, 'name at least one part'),
);
/** true/false, or the strings true/false/yes/no/1/0 (environment variables and options). */
const flag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return ['true', 'yes', '1', 'on'].includes(s) ? true : ['false', 'no', '0', 'off'].includes(s) ? false : v;
}, z.boolean());
/** A JSON value written as text (environment variables and options), or the text itself when it is not JSON. */
function jsonOrText(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
/** A list: a JSON array, or a comma-separated string. */
const list = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
/** Origins that may frame the app: `https://host[:port]` (or http), or `*` for any (only when set explicitly). */
const embedOrigins = list.pipe(
  z.array(
    z.string().transform((s) => s.replace(/\/$/, '')).refine((s) => s === '*' || /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+|\*\.[a-z0-9.-]+)(:\d{1,5})?$/i.test(s), {
      message: 'an origin is scheme://host[:port] with no path, e.g. https://intranet.example.org, or *',
    }),
  ),
);
/** A sip: URI of a host (sip:host[:port], a user part allowed), or empty. */
const sipUri = (name: string) =>
  z
    .string()
    .trim()
    .regex(/^$|^sip:([^@\s<>"]{1,128}@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?(;[^\s<>"]*)?$/, `${name} is a sip: URI, e.g. sip:sip.example.net:5060`);

/** An IP address (IPv4, or IPv6 without brackets), or empty when `optional`: what goes into ICE candidates, SDP and bind(). */
const ipAddress = (name: string, example: string, optional: boolean, hint = '') =>
  z
    .string()
    .trim()
    .refine((s) => (optional && s === '') || isIP(s) !== 0, `${name} is an IP address, e.g. ${example}${optional ? ', or empty' : ''}${hint}`);

export const configSchema = z.object({
  /** Address the HTTPS, HTTP and media sockets bind to. */
  listenAddress: ipAddress('listenAddress', '0.0.0.0', false).default('0.0.0.0'),
  httpsPort: port.default(8443),
  /** Plain HTTP port that redirects to HTTPS; 0 turns it off. */
  httpPort: port.default(8080),
  /** The one UDP port that carries all media. */
  mediaPort: port.default(10000),
  /** TCP port for ICE-TCP media (RFC 6544 passive candidates), for browsers whose UDP is blocked; 0 turns it off. */
  tcpMediaPort: port.default(4443),
  /** The address the bridge announces in ICE candidates, for a bridge behind NAT. Empty: the local addresses. */
  publicAddress: ipAddress('publicAddress', '203.0.113.7', true, ' (the server\'s DNS name goes in domain)').default(''),
  /** host:port of a STUN server that tells the bridge its public address when publicAddress is empty. */
  stunServer: z.string().trim().default(''),
  /** Where the certificate, keys and other state are kept. */
  dataDir: z.string().default('data'),
  /** PEM files of the HTTPS certificate; when empty a self-signed one is made in dataDir on first start. */
  tlsCert: z.string().default(''),
  tlsKey: z.string().default(''),
  /** The server's domain name: with it, signal obtains and renews a certificate for it by ACME (HTTP-01 on httpPort). */
  domain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^$|^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a domain is a DNS name with a dot, e.g. meet.example.org')
    .default(''),
  /** Contact address given to the ACME certificate authority (optional). */
  acmeEmail: z.union([z.literal(''), z.string().trim().email('acmeEmail must be an e-mail address')]).default(''),
  /** The ACME directory that issues the certificate for `domain`. */
  acmeDirectoryUrl: z.string().trim().url('acmeDirectoryUrl must be a URL').default('https://acme-v02.api.letsencrypt.org/directory'),
  /** Which parts run in this process; the default is all of them. Not all: the others run elsewhere, over NATS. */
  parts: partsList.default([...PART_NAMES]),
  /** NATS server(s) linking the parts on several machines (nats://host:4222). Empty: one process, in-memory bus. */
  natsUrl: z.string().trim().default(''),
  /** NATS credentials (secrets: never logged, hidden by `tertulia config`). */
  natsUser: z.string().default(''),
  natsPassword: z.string().default(''),
  natsToken: z.string().default(''),
  /** This bridge's id on the bus, unique among the bridges. Empty: <hostname>-<mediaPort>. */
  bridgeId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, 'a bridge id is letters, digits, - and _ (at most 64)')
    .default(''),
  /**
   * The region of this machine's parts (a data centre, a country): a bridge announces it, and signal gives it
   * to the participants it serves (unless `regionHeader` says otherwise); focus puts participants on bridges of
   * their region. Empty: none.
   */
  region: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{0,64}$/, 'a region is letters, digits, -, _ and . (at most 64)')
    .default(''),
  /** A request header the load balancer sets to each participant's region (e.g. X-Tertulia-Region); empty: none. */
  regionHeader: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{0,64}$/, 'a header name is letters, digits and - (at most 64)')
    .default(''),
  /** A bridge whose CPU use (its process, per core, 0..1) is at least this gets no new participants while another has room. */
  maxBridgeStress: decimal(z.number().min(0.05).max(1)).default(0.85),
  /** Media worker threads of the bridge: 0 = one per core, 1 = the main thread forwards (no workers). */
  mediaWorkers: decimal(z.number().int().min(0).max(16)).default(0),
  /** Media workers: a conference's participants on its one worker before it spans several. */
  mediaWorkerSpan: decimal(z.number().int().min(1).max(10000)).default(10),
  /** Media workers start with the first endpoint and stop when the bridge has been empty 10 s (an idle bridge runs none). */
  mediaWorkersOnDemand: flag.default(true),
  /** The bridge sends with the native module (sendmmsg batches) when it is built; false: always Node's dgram. */
  nativeSend: flag.default(true),
  /**
   * With nativeSend: the module also reads the socket (recvmmsg batches, kernel arrival times, the kernel's drops
   * counted); false: dgram reads, one datagram per callback (also what runs when the module is not built).
   * docs/BENCHMARKS.md, "Batched receive without loss".
   */
  nativeReceive: flag.default(true),
  /**
   * With nativeReceive: the module also forwards the common packet of a simulcast camera (a steady layer) itself,
   * without JavaScript (native/routes.c); false: JavaScript forwards every packet. Off while the pacer is on.
   */
  nativeForward: flag.default(true),
  /**
   * The bridge paces video per receiver at 2.5x its downlink estimate (bridge/pacer.ts); false (the default until
   * it shows a benefit: docs/BENCHMARKS.md, "The pacer and temporal-layer thinning"): sent as forwarded.
   */
  pacer: flag.default(false),
  /**
   * The bridge tells each browser which simulcast layers of its camera someone needs, and the browser pauses the
   * ones above the largest needed after 5 s (bridge/send-layers.ts; the lowest is never paused); false: every layer
   * is always sent.
   */
  pauseUnusedLayers: flag.default(true),
  /** UDP ports of plain-RTP transports (recording, streaming, SIP legs, `tertulia play`): the lowest and highest. */
  plainRtpPortMin: port.default(40000),
  plainRtpPortMax: port.default(40999),
  /** Peer-to-peer for two (signal/p2p.ts): with exactly two browsers in a room, media goes browser to browser. */
  p2p: flag.default(true),
  /** Last-N: video of at most this many others per receiver, the most recent speakers first; 0 = everyone's. */
  lastN: decimal(z.number().int().min(0).max(1000)).default(0),
  /** Most m-lines in one participant's session (its own three included): a backstop, inactive ones are recycled. */
  maxSessionMlines: decimal(z.number().int().min(6).max(4096)).default(256),
  /**
   * Receive slots (a fixed set of receive m-lines, the bridge maps speakers onto them) for browsers that join a
   * room of at least this many participants; 0 = off. Above E2EE's room cap: an encrypted room keeps one m-line per source.
   * On from the first size above that cap by default (docs/BENCHMARKS.md, receive slots: the e2e tests on slots).
   */
  receiveSlotsFrom: decimal(z.number().int().min(0).max(100_000))
    .refine((n) => n === 0 || n > MAX_E2EE_PARTICIPANTS, `receiveSlotsFrom is 0 (off) or more than ${MAX_E2EE_PARTICIPANTS} (end-to-end encrypted rooms stay on one m-line per source)`)
    .default(MAX_E2EE_PARTICIPANTS + 1),
  /** Audio slots of such a session: the most recent speakers. */
  receiveAudioSlots: decimal(z.number().int().min(1).max(16)).default(3),
  /** Video slots of such a session: screens, the stage, then the most recent speakers' cameras. */
  receiveVideoSlots: decimal(z.number().int().min(1).max(48)).default(9),
  /** Renegotiations one participant may cause at once (screen-share toggles, its sources changing)... */
  renegotiationBurst: decimal(z.number().int().min(1).max(1000)).default(6),
  /** ...and per second after that; more wait and are merged, never dropped. */
  renegotiationRate: decimal(z.number().min(0.01).max(1000)).default(2),
  /** Seconds without a WebSocket heartbeat after which a participant counts as gone. */
  participantTimeout: decimal(z.number().min(1).max(600)).default(20),
  /** Serve the web app's source maps (*.map): they show the app's source to anyone. Off by default. */
  serveSourceMaps: flag.default(false),
  /** Seconds a WebSocket may stay open without joining a room (or asking to) before it is closed. */
  joinTimeout: decimal(z.number().min(1).max(3600)).default(30),
  /** Seconds a WebSocket may wait at a sign-in or room-password prompt (the person is typing) before it is closed. */
  promptTimeout: decimal(z.number().min(1).max(86400)).default(300),
  /** Caps per client address (an IPv4 address, or an IPv6 /64): open WebSockets. */
  maxConnectionsPerAddress: decimal(z.number().int().min(1).max(1_000_000)).default(100),
  /** Caps per client address: participants in meetings at once (each holds a bridge endpoint). */
  maxParticipantsPerAddress: decimal(z.number().int().min(1).max(1_000_000)).default(50),
  /** Caps per client address: rooms it may create in any minute. */
  maxRoomsPerAddressPerMinute: decimal(z.number().int().min(1).max(1_000_000)).default(10),
  /** Overall caps: rooms at once on this signal server. */
  maxRooms: decimal(z.number().int().min(1).max(1_000_000)).default(1000),
  /** Overall caps: MiB of whiteboards and notes (their encoded Yjs state) all meetings on this signal server hold together. */
  maxBoardMemoryMb: decimal(z.number().int().min(1).max(65_536)).default(16),
  /** Overall caps: participants in one room. */
  maxParticipantsPerRoom: decimal(z.number().int().min(1).max(10_000)).default(100),
  /** Overall caps: endpoints (participants) on this bridge; focus chooses no bridge at its cap. */
  maxEndpointsPerBridge: decimal(z.number().int().min(1).max(1_000_000)).default(500),
  /** Seconds between a bridge's announcements on the bus (its heartbeat). */
  bridgeHeartbeat: decimal(z.number().min(0.1).max(10)).default(0.5),
  /** Seconds without a bridge's heartbeat after which focus counts it dead and moves its participants away. */
  bridgeFailureTimeout: decimal(z.number().min(0.5).max(120)).default(2),
  /** Seconds a bridge stopped with SIGTERM waits for its meetings to end when no other bridge takes them; 0: it stops at once. */
  bridgeDrainTimeout: decimal(z.number().min(0).max(86_400)).default(60),
  /** host:port of the HTTP listener of /metrics, /healthz, /readyz, /about/health, /colibri/stats; empty: off. */
  metricsAddress: z
    .string()
    .trim()
    .regex(/^$|^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'metricsAddress is host:port, e.g. 127.0.0.1:9464')
    .default(''),
  /** Bearer token the metrics listener requires (a secret: never logged); empty: none. */
  metricsToken: z.string().default(''),
  /** Loopback-only HTTP port answering GET /resources with what this process holds; 0 = off. */
  resourcesPort: port.default(0),
  /** Composed recordings: the frame size, frame rate and H.264 bitrate (kbit/s). */
  recordingWidth: decimal(z.number().int().min(160).max(3840).multipleOf(2)).default(1280),
  recordingHeight: decimal(z.number().int().min(120).max(2160).multipleOf(2)).default(720),
  recordingFps: decimal(z.number().int().min(1).max(60)).default(30),
  recordingVideoBitrate: decimal(z.number().int().min(100).max(50_000)).default(2500),
  /** Composed recordings: every camera the same size (grid), or the active speaker large over a strip (speaker). */
  recordingLayout: z.enum(['grid', 'speaker']).default('grid'),
  /** What a recording is: one composed file (composed), or each participant's audio and video as they arrived (multitrack). */
  recordingMode: z.enum(['composed', 'multitrack']).default('composed'),
  /** Recordings one recorder runs at once (each a GStreamer process; see docs/RECORDING.md for its cost). */
  maxRecordingsPerRecorder: decimal(z.number().int().min(0).max(64)).default(4),
  /** Recordings older than this many days (since they ended) are deleted by their recorder; 0 keeps them forever. */
  recordingRetentionDays: decimal(z.number().min(0).max(36_500)).default(0),
  /** A recording does not start, and a running one is finished, when its disk has less free space (MiB); 0 = no check. */
  recordingMinFreeMb: decimal(z.number().int().min(0).max(10_000_000)).default(1024),
  /** This recorder's id on the bus, unique among the recorders. Empty: <hostname>-<random>. */
  recorderId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, 'a recorder id is letters, digits, - and _ (at most 64)')
    .default(''),
  /** The IPv4 address the recorder receives media on (the bridge sends there): its own address on the bridges' network. */
  recorderAddress: z.string().trim().default('127.0.0.1'),
  /** UDP ports the recorder receives media on: four per recording or live stream (audio, video, each with RTCP). */
  recorderPortMin: port.default(41000),
  recorderPortMax: port.default(41999),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Who may join: 'open' (anyone with the link), 'accounts' (a signed-in host starts the room), 'token' (JWT). */
  authMode: z.enum(['open', 'accounts', 'token']).default('open'),
  /** accounts/token modes: people without an account/token may join a room once a host started it. */
  allowGuests: flag.default(true),
  /** token mode: our application id, the issuer (`iss`) tokens must carry (Jitsi's app_id). */
  jwtAppId: z.string().default(''),
  /** token mode: more accepted issuers; '*' accepts any. */
  jwtAcceptedIssuers: list.default([]),
  /** token mode: accepted audiences (`aud`); '*' accepts any. */
  jwtAudience: list.default(['jitsi']),
  /** token mode: the HS256 shared secret (Jitsi's app_secret). */
  jwtSecret: z.string().default(''),
  /** Accounts (of `tertulia users`) that are admins: they see and delete every room's recordings at /recordings. */
  adminAccounts: list.default([]),
  /** token mode: PEM public key files for RS256/ES256 tokens (the file name without .pem is the key id). */
  jwtPublicKeys: list.default([]),
  /** URLs (http or https) that get a signed POST for each meeting event (webhooks.ts); empty: none. */
  webhookUrls: list
    .refine((urls) => urls.every(isHttpUrl), 'each webhook URL must be an http:// or https:// URL')
    .refine((urls) => urls.length <= 16, 'at most 16 webhook URLs')
    .default([]),
  /** The shared secret webhooks are signed with (HMAC-SHA256; a secret: never logged). */
  webhookSecret: z.string().default(''),
  /** Bearer token of the admin HTTP API /api/v1 (a secret: never logged); empty: the API is off. */
  adminApiToken: z.string().default(''),
  /** token mode: the admin API also takes a JWT of ours with room "*" and context.user.admin true. */
  adminApiJwt: flag.default(false),
  /** Dial-in numbers shown in the invite dialog and by /phoneNumberList: country or label -> numbers (JSON in the environment). */
  sipDialInNumbers: z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? {} : jsonOrText(v)) : v), dialInNumbersSchema).default({}),
  /** The language of the SIP voice menu's prompts (the PIN menu). */
  sipLanguage: z.enum(['en', 'es']).default('en'),
  /** Origins whose pages may embed the app in an iframe (CSP frame-ancestors; Jitsi's IFrame API). Empty: none. */
  embedAllowedOrigins: embedOrigins.default([]),
  /** The SIP gateway (the `sip` part): the address its UDP and TCP port binds to. */
  sipAddress: ipAddress('sipAddress', '0.0.0.0', false).default('0.0.0.0'),
  /** Its SIP port, UDP and TCP; 0: any free port (tests). */
  sipPort: port.default(5060),
  /** The address phones send their audio to (SDP c=); empty: publicAddress, else this machine's LAN address. */
  sipPublicAddress: ipAddress('sipPublicAddress', '203.0.113.7', true).default(''),
  /** The IPv4 address the gateway receives the rooms' audio on (the bridges send there). */
  sipMediaAddress: z.string().trim().refine((s) => isIPv4(s), 'sipMediaAddress is an IPv4 address, e.g. 127.0.0.1').default('127.0.0.1'),
  /** UDP ports of phone calls' RTP (the SIP gateway): an even port and the next one per call. */
  sipRtpPortMin: port.default(42000),
  sipRtpPortMax: port.default(42999),
  /** The rooms' mixes of the SIP gateway on its media threads (with the callers' voices), not in its main thread. */
  sipMixOnThreads: flag.default(false),
  /** SIP over TLS (TCP), when a certificate is configured (tlsCert/tlsKey, or domain's ACME one); 0: any free port. */
  sipTlsPort: port.default(5061),
  /** SIP dial-out: the trunk (sip:host[:port]) calls go out through; empty: no dial-out. */
  sipTrunkUri: sipUri('sipTrunkUri').default(''),
  /** SIP dial-out: an outbound proxy every request to the trunk goes through (sip:host[:port]); empty: none. */
  sipTrunkProxy: sipUri('sipTrunkProxy').default(''),
  /** SIP dial-out: the user name at the trunk (digest authentication, REGISTER). */
  sipTrunkUser: z.string().trim().max(128).default(''),
  /** SIP dial-out: the trunk password (a secret: never logged, hidden by `tertulia config`). */
  sipTrunkPassword: z.string().max(256).default(''),
  /** SIP dial-out: register with the trunk (and keep the registration refreshed). */
  sipTrunkRegister: flag.default(false),
  /** SIP dial-out: the caller ID (a number or user at the trunk's domain, or a sip: URI); empty: sipTrunkUser. */
  sipTrunkFrom: z.string().trim().max(256).regex(/^[^<>"\s]*$/, 'sipTrunkFrom is a number, a user name or a sip: URI').default(''),
  /** SIP dial-out: moderators who neither signed in nor brought a token (everyone in open mode) may invite by phone. */
  sipDialOutAnonymous: flag.default(false),
  /** TURN (src/turn/): auto = run Debian's coturn (turnserver) when installed, on = it must run, off = none. */
  turn: z.enum(['auto', 'on', 'off']).default('auto'),
  /** The TURN REST API shared secret (a secret: never logged); empty: made once and kept in <dataDir>/turn/secret. */
  turnSecret: z.string().max(256).regex(/^[^\s#]*$/, 'turnSecret cannot hold spaces or #').default(''),
  /** Seconds the TURN credentials handed to a browser stay valid (checked by coturn at each allocation and refresh: a relay ends when they expire). */
  turnCredentialTtl: decimal(z.number().int().min(60).max(30 * 86400)).default(86400),
  /** coturn's own UDP and TCP port (turn:host:port); 0: none, TURN only over TLS through the HTTPS port. */
  turnPort: port.default(3478),
  /** UDP ports coturn relays media from: the lowest and highest. */
  turnRelayPortMin: port.default(43000),
  turnRelayPortMax: port.default(43999),
  /** More addresses (or ranges a-b) coturn may relay to besides this machine's own: bridges on other machines. */
  turnAllowedPeers: list.default([]),
  /** turn:/turns: URLs of a TURN server the admin runs (sharing turnSecret): handed out instead of running coturn. */
  turnExternalUrls: list
    .refine((urls) => urls.every((u) => /^turns?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/.test(u)), 'each TURN URL is turn:host[:port][?transport=udp|tcp] or turns:host[:port][?transport=tcp]')
    .refine((urls) => urls.length <= 8, 'at most 8 TURN URLs')
    .default([]),
});
export type Config = z.infer<typeof configSchema>;

/** Environment variable for each setting: TERTULIA_ + the name in SCREAMING_SNAKE_CASE. */
export const envNames: Record<keyof Config, string> = Object.fromEntries(
  Object.keys(configSchema.shape).map((k) => [k, 'TERTULIA_' + k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()]),
) as Record<keyof Config, string>;

/** Settings that hold secrets: never printed (`tertulia config`) nor logged. */
export const secretSettings: ReadonlySet<keyof Config> = new Set<keyof Config>(['natsPassword', 'natsToken', 'metricsToken', 'jwtSecret', 'webhookSecret', 'adminApiToken', 'sipTrunkPassword', 'turnSecret']);

export const settingHelp: Record<keyof Config, string> = {
  listenAddress: 'address to bind HTTPS, HTTP and media sockets (default 0.0.0.0)',
  httpsPort: 'HTTPS + WebSocket port (default 8443)',
  httpPort: 'HTTP port that redirects to HTTPS, 0 = off (default 8080)',
  mediaPort: 'UDP port for all media (default 10000)',
  tcpMediaPort: 'TCP port for media when UDP is blocked (ICE-TCP), 0 = off (default 4443)',
  publicAddress: "public IP announced to browsers when the bridge is behind NAT (like Jitsi's NAT_HARVESTER_PUBLIC_ADDRESS)",
  stunServer: 'host:port of a STUN server to discover the public address when --public-address is not set (default: none)',
  dataDir: 'directory for the self-signed certificate and other state (default ./data)',
  tlsCert: 'PEM certificate file for HTTPS (default: self-signed, made on first start)',
  tlsKey: 'PEM private key file for HTTPS',
  domain: "this server's domain name, e.g. meet.example.org: a certificate for it is obtained and renewed by ACME (Let's Encrypt), HTTP-01 on the HTTP port (default: none, self-signed)",
  acmeEmail: 'contact e-mail given to the ACME certificate authority with --domain (optional)',
  acmeDirectoryUrl: "ACME directory URL for --domain (default Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory)",
  parts: 'parts this process runs: all, or a list of web (= signal), focus, bridge, recorder, sip (default all; other than all needs --nats-url)',
  natsUrl: 'NATS server linking the parts on several machines, e.g. nats://10.0.0.5:4222 (default: none, one process)',
  natsUser: 'NATS user name, when the NATS server requires one',
  natsPassword: 'NATS password (better in the environment, TERTULIA_NATS_PASSWORD: command-line options show in ps)',
  natsToken: 'NATS authorization token, when the NATS server requires one (instead of user/password)',
  bridgeId: "this bridge's id, unique among the bridges (default <hostname>-<media port>)",
  region: "this machine's region: bridges announce it, signal gives it to its participants; focus places participants on bridges of their region (default none)",
  regionHeader: "a request header the load balancer sets to the participant's region, read by signal instead of --region (default none)",
  maxBridgeStress: 'CPU use of a bridge (per core, 0..1) from which focus places nobody more on it while another bridge has room (default 0.85)',
  mediaWorkers: 'bridge media worker threads sharing the media port: 0 = one per core, 1 = none (default 0)',
  mediaWorkerSpan: 'participants of one conference on one media worker; more spread over the least busy workers (default 10)',
  mediaWorkersOnDemand: 'bridge: start the media workers when someone is about to join (a room page opens, a phone call arrives, a recording starts) or with the first participant, and stop them when the bridge has been empty 10 s (saves ~30 MiB per worker while idle; a join that comes before them waits: ~0.85 s of CPU for two, seconds on a busy machine; false: they run from the start) (default true)',
  nativeSend: "bridge: send media in batches with the native module (sendmmsg) when it is built, false = Node's dgram only (default true)",
  nativeReceive: "bridge: with nativeSend, also read media in batches with the native module (recvmmsg, kernel arrival times), false = Node's dgram reads (default true)",
  nativeForward: "bridge: with nativeReceive, the native module also forwards steady simulcast layers without JavaScript (rewrite, number, protect, send), false = JavaScript forwards every packet (default true; off with the pacer)",
  pauseUnusedLayers: "bridge: browsers pause the simulcast layers of their camera above the largest anyone has needed for 5 s (never the lowest), saving their uplink and CPU; false = every layer is always sent (default true)",
  pacer: "bridge: send each receiver's video at 2.5x its bandwidth estimate, so a keyframe spreads over tens of ms instead of one burst; false = send as forwarded (default false)",
  plainRtpPortMin: 'lowest UDP port of plain RTP transports (recording, streaming, phone calls, tertulia play) (default 40000)',
  plainRtpPortMax: 'highest UDP port of plain RTP transports (default 40999)',
  p2p: 'with exactly two browsers in a room (no phone caller, played file or recording), their media goes browser to browser; back to the bridge when a third joins (default true)',
  lastN: 'video streams each participant receives at most, the most recent speakers first; 0 = all (default 0)',
  maxSessionMlines: "most m-lines in one participant's session, its own three included; sources beyond it are not received (default 256)",
  receiveSlotsFrom: 'browsers joining a room of at least this many participants receive on fixed slots (receiveAudioSlots + receiveVideoSlots m-lines), no renegotiation on joins and leaves; 0 = off, else more than 20 (default 21)',
  receiveAudioSlots: 'audio slots of a session in slot mode: the most recent speakers (default 3)',
  receiveVideoSlots: 'video slots of a session in slot mode: screens, the stage, then the most recent speakers (default 9)',
  renegotiationBurst: 'renegotiations one participant may cause at once (screen-share toggles, source changes) (default 6)',
  renegotiationRate: 'renegotiations per second one participant may cause after the burst; more wait and are merged (default 2)',
  participantTimeout: 'seconds without a heartbeat before a participant counts as gone (default 20; after 4 s the others see its connection interrupted)',
  serveSourceMaps: "serve the web app's source maps (*.map) for debugging in the browser; they show the app's source to anyone (default false)",
  joinTimeout: 'seconds a connection may stay open without joining a meeting before it is closed (default 30)',
  promptTimeout: 'seconds a connection may wait at a sign-in or room-password prompt before it is closed (default 300)',
  maxConnectionsPerAddress: 'open connections per client address (IPv6: per /64) (default 100)',
  maxParticipantsPerAddress: 'participants in meetings at once per client address (IPv6: per /64) (default 50)',
  maxRoomsPerAddressPerMinute: 'rooms one client address (IPv6: per /64) may create per minute (default 10)',
  maxRooms: 'meetings (rooms) at once on this server (default 1000)',
  maxBoardMemoryMb: "MiB of whiteboards and notes (encoded) all meetings on this server hold together; past it changes are refused with board-full (default 16)",
  maxParticipantsPerRoom: 'participants in one meeting (default 100)',
  maxEndpointsPerBridge: 'participants (endpoints) on one bridge; a bridge at its cap gets no more (default 500)',
  bridgeHeartbeat: "seconds between a bridge's announcements on the bus, its heartbeat (default 0.5)",
  bridgeFailureTimeout: "seconds without a bridge's heartbeat before focus counts it dead and moves its participants to another bridge (default 2)",
  bridgeDrainTimeout: 'seconds a bridge stopped with SIGTERM waits for its meetings to end when no other bridge can take them, 0 = stop at once (default 60)',
  metricsAddress: 'host:port where /metrics (Prometheus), /healthz, /readyz, /about/health and /colibri/stats are served, e.g. 127.0.0.1:9464 (default: off)',
  metricsToken: 'Bearer token the metrics listener requires (better in the environment, TERTULIA_METRICS_TOKEN) (default: none)',
  resourcesPort: 'port on 127.0.0.1 only where GET /resources answers what this process holds (rooms, endpoints, sockets, timers, memory), 0 = off (default 0)',
  recordingWidth: 'width of composed recordings in pixels (default 1280)',
  recordingHeight: 'height of composed recordings in pixels (default 720)',
  recordingFps: 'frame rate of composed recordings (default 30)',
  recordingVideoBitrate: 'H.264 bitrate of composed recordings in kbit/s (default 2500)',
  recordingLayout: 'layout of composed recordings: grid (every camera the same size) or speaker (the active speaker large, the others in a strip) (default grid)',
  recordingMode: 'what a recording is: composed (one file, laid out and mixed) or multitrack (each participant\'s audio and video as sent, WebM, with timeline.json) (default composed)',
  maxRecordingsPerRecorder: 'recordings one recorder runs at once; more are refused and the moderator is told (default 4)',
  recordingRetentionDays: 'days a recording is kept after it ended; older ones are deleted by the recorder (checked at start and hourly), 0 = keep forever (default 0)',
  recordingMinFreeMb: "free disk space (MiB) the recorder keeps: below it no recording starts and a running one is finished, 0 = no check (default 1024)",
  recorderId: "this recorder's id, unique among the recorders (default <hostname>-<random>)",
  recorderPortMin: 'lowest UDP port the recorder receives media on, four per recording or live stream (default 41000)',
  recorderPortMax: 'highest UDP port the recorder receives media on (default 41999)',
  recorderAddress: "IPv4 address the recorder receives media on; set the recorder machine's address on the bridges' network when it runs on another machine (default 127.0.0.1)",
  logLevel: 'trace, debug, info, warn, error, fatal or silent (default info)',
  authMode: 'who may join: open (anyone with the link), accounts (sign-in to start a room) or token (JWT in the URL) (default open)',
  allowGuests: 'accounts/token modes: let people without an account/token join a started room (default true)',
  jwtAppId: 'token mode: the application id tokens must be issued by (iss)',
  jwtAcceptedIssuers: 'token mode: more accepted issuers, comma-separated; * accepts any',
  jwtAudience: 'token mode: accepted audiences (aud), comma-separated; * accepts any (default jitsi)',
  jwtSecret: 'token mode: shared secret for HS256 tokens',
  adminAccounts: "accounts (made with tertulia users) that may sign in at /recordings to see and delete every room's recordings, comma-separated; any access mode (default: none)",
  jwtPublicKeys: 'token mode: PEM public key files for RS256/ES256 tokens, comma-separated',
  webhookUrls: 'http(s) URLs that get a signed JSON POST for each meeting event (room, participant, recording, live stream), comma-separated (default: none)',
  webhookSecret: 'shared secret the webhooks are signed with (HMAC-SHA256), at least 16 characters; needed with --webhook-urls (better in the environment, TERTULIA_WEBHOOK_SECRET)',
  adminApiJwt: 'token mode: the admin API also accepts, as its Bearer, a token like the meeting tokens with room "*" and context.user.admin true (default false)',
  adminApiToken: 'Bearer token of the admin HTTP API (/api/v1: rooms, participants, mute, remove, end), at least 16 characters (better in the environment, TERTULIA_ADMIN_API_TOKEN) (default: none, the API is off)',
  sipDialInNumbers: 'phone numbers callers dial to join by PIN, shown in the invite dialog, as JSON: {"US": ["+1 555 0100"], "ES": ["+34 910 000 000"]} (default: none)',
  sipLanguage: "language of the phone voice menu's prompts: en or es (default en)",
  embedAllowedOrigins: "origins whose pages may embed meetings in an iframe (Jitsi's IFrame API, /external_api.js), comma-separated, e.g. https://intranet.example.org; * = any site (default: none)",
  sipAddress: 'address the SIP gateway (phone calls into meetings) binds its UDP and TCP port to (default 0.0.0.0)',
  sipPort: 'SIP port of the gateway, UDP and TCP, 0 = any free port (default 5060)',
  sipPublicAddress: "address phones send audio to, written in the gateway's SDP (default: publicAddress, else this machine's LAN address)",
  sipMediaAddress: "IPv4 address the SIP gateway receives the rooms' audio on from the bridges; set its address on the bridges' network when it runs on another machine (default 127.0.0.1)",
  sipMixOnThreads: "the SIP gateway decodes and mixes the rooms' audio on its media threads, with the callers' voices, instead of in its main thread (default false)",
  sipRtpPortMin: "lowest UDP port of phone calls' RTP with the SIP gateway, two per call (default 42000)",
  sipRtpPortMax: "highest UDP port of phone calls' RTP (default 42999)",
  sipTlsPort: 'SIP over TLS port of the gateway, used when a certificate is configured (tlsCert/tlsKey, or the ACME one of --domain); 0 = any free port (default 5061)',
  sipTrunkUri: 'SIP trunk for dial-out ("Invite by phone"), e.g. sip:sip.example.net:5060; numbers are called as sip:NUMBER@its host (default: none, no dial-out)',
  sipTrunkProxy: 'outbound proxy every request to the SIP trunk goes through, e.g. sip:proxy.example.net:5060 (default: none)',
  sipTrunkUser: 'user name at the SIP trunk, for digest authentication and REGISTER',
  sipTrunkPassword: 'password at the SIP trunk (better in the environment, TERTULIA_SIP_TRUNK_PASSWORD)',
  sipTrunkRegister: 'register with the SIP trunk and keep the registration refreshed (default false)',
  sipTrunkFrom: 'caller ID of dial-out calls: a number or user at the trunk, or a sip: URI (default: the trunk user)',
  sipDialOutAnonymous: 'let moderators who did not sign in or bring a token (everyone in open mode) invite by phone; calls may cost money (default false)',
  turn: "TURN for networks that block UDP: auto (run Debian's coturn when installed), on (it must run) or off (default auto)",
  turnSecret: 'shared secret of the TURN REST credentials (better in the environment, TERTULIA_TURN_SECRET) (default: made once, kept in <dataDir>/turn/secret)',
  turnCredentialTtl: 'seconds the TURN credentials a browser gets when it joins stay valid; a relay still in use then ends (default 86400)',
  turnPort: "coturn's UDP and TCP port, 0 = none: TURN only over TLS through the HTTPS port (default 3478)",
  turnRelayPortMin: 'lowest UDP port coturn relays media from (default 43000)',
  turnRelayPortMax: 'highest UDP port coturn relays media from (default 43999)',
  turnAllowedPeers: "more addresses or ranges (a-b) coturn may relay to besides this machine's own, e.g. bridges on other machines, comma-separated (default: none)",
  turnExternalUrls: 'turn:/turns: URLs of your own TURN server sharing turnSecret; handed to browsers instead of running coturn, comma-separated (default: none)',
};

export class ConfigError extends Error {}

/** One line per issue; a setting that came from an environment variable is named with it (`from` says which). */
function formatIssues(source: string, error: z.ZodError, from: Record<string, string> = {}): string {
  return error.issues
    .map((i) => {
      const key = String(i.path[0] ?? '');
      const where = from[key] !== undefined ? ` (from ${from[key]})` : '';
      return `${source}: ${i.path.join('.') || '(root)'}${where}: ${i.message}`;
    })
    .join('\n');
}

/**
 * Builds the configuration. `file` is a JSON file path (default: $TERTULIA_CONFIG, else ./tertulia.json if present);
 * `overrides` are command-line options.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Partial<Record<keyof Config, unknown>> } = {}): Config {
  const env = options.env ?? process.env;
  const merged: Record<string, unknown> = {};
  const file = options.file ?? env.TERTULIA_CONFIG ?? (existsSync('tertulia.json') ? 'tertulia.json' : undefined);
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    const fromFile = configSchema.partial().strict().safeParse(parsed);
    if (!fromFile.success) throw new ConfigError(formatIssues(`config file ${file}`, fromFile.error));
    Object.assign(merged, parsed);
  }
  const fromEnv: Record<string, string> = {};
  for (const [key, name] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      fromEnv[key] = name;
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) {
      merged[key] = value;
      delete fromEnv[key];
    }
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(formatIssues('configuration', result.error, fromEnv));
  const config = result.data;
  if (config.plainRtpPortMax < config.plainRtpPortMin + 1 || config.plainRtpPortMin === 0) {
    throw new ConfigError('configuration: plainRtpPortMin..plainRtpPortMax must be a range of at least two ports above 0');
  }
  if (config.recorderPortMax < config.recorderPortMin + 3 || config.recorderPortMin === 0) {
    throw new ConfigError('configuration: recorderPortMin..recorderPortMax must be a range of at least four ports above 0');
  }
  if (config.sipRtpPortMax < config.sipRtpPortMin + 1 || config.sipRtpPortMin === 0) {
    throw new ConfigError('configuration: sipRtpPortMin..sipRtpPortMax must be a range of at least two ports above 0');
  }
  if (config.domain && (config.tlsCert || config.tlsKey)) {
    throw new ConfigError('configuration: domain (a certificate by ACME) and tlsCert/tlsKey (your own certificate) exclude each other');
  }
  if (config.domain && config.httpPort === 0) {
    throw new ConfigError('configuration: domain needs the HTTP port (httpPort, reached as port 80 from outside): the ACME HTTP-01 challenge is answered there');
  }
  if (config.metricsAddress && Number(config.metricsAddress.slice(config.metricsAddress.lastIndexOf(':') + 1)) > 65535) {
    throw new ConfigError('configuration: metricsAddress: the port must be at most 65535');
  }
  if (config.webhookUrls.length > 0 && config.webhookSecret.length < 16) {
    throw new ConfigError('configuration: webhookUrls needs webhookSecret, at least 16 characters (the receivers check the signature with it)');
  }
  if (config.adminApiJwt && config.authMode !== 'token') {
    throw new ConfigError('configuration: adminApiJwt needs authMode "token" (its tokens are checked like the meeting tokens)');
  }
  if (config.adminApiToken !== '' && config.adminApiToken.length < 16) {
    throw new ConfigError('configuration: adminApiToken must be at least 16 characters');
  }
  if (config.turnRelayPortMax < config.turnRelayPortMin + 1 || config.turnRelayPortMin === 0) {
    throw new ConfigError('configuration: turnRelayPortMin..turnRelayPortMax must be a range of at least two ports above 0');
  }
  if (config.turnExternalUrls.length > 0 && config.turnSecret.length < 16) {
    throw new ConfigError('configuration: turnExternalUrls needs turnSecret, at least 16 characters (the static-auth-secret of that TURN server)');
  }
  if (config.turnSecret !== '' && config.turnSecret.length < 16) {
    throw new ConfigError('configuration: turnSecret must be at least 16 characters');
  }
  const collision = portCollision(portClaims(config));
  if (collision !== undefined) throw new ConfigError(`configuration: ${collision}`);
  config.dataDir = path.resolve(config.dataDir);
  return config;
}
