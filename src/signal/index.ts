// signal: the HTTPS server (the built web app, /healthz, WebSocket /ws with rooms and presence) and the
// plain-HTTP port that redirects to HTTPS. Talks to focus only over the bus.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { createRedirectHandler, createStaticHandler, DEFAULT_WEB_ROOT } from './http.ts';
import { hostNames } from './host-names.ts';
import { MediaWords } from './media-words.ts';
import { breakoutRoomsOf, everyoneIn } from './breakout-view.ts';
import { Rooms } from './rooms.ts';
import { Caps } from './caps.ts';
import { MeetingFeatures } from './meeting.ts';
import { BoardArchive } from './board-archive.ts';
import { BoardSync } from './board-sync.ts';
import { BreakoutRooms } from './breakout-rooms.ts';
import { Access } from './access.ts';
import { loadOrCreateTls } from './tls.ts';
import type { AcmeCertificates } from './acme.ts';
import { attachWebSocket } from './ws.ts';
import { startControlSocket, type ControlSocket } from './control.ts';
import { serverStatus } from './server-status.ts';
import { BridgeDirectory } from '../bus/bridge-directory.ts';
import { VERSION } from '../cli/version.ts';
import { VideoConstraintsForwarder } from './video-constraints.ts';
import { Recordings } from './recording.ts';
import { PhoneInvites } from './phone-invites.ts';
import { SignalMetrics } from './signal-metrics.ts';
import { AdminApi } from './admin-api.ts';
import { Webhooks } from './webhooks/webhooks.ts';
import { DialInPins } from './dial-in-pins.ts';
import { DialInHttp } from './dial-in-http.ts';
import { serveDialIn } from './dial-in-bus.ts';
import { MediaWarmUp } from './media-warm-up.ts';
import { BridgeWarmUp } from '../bus/bridge-warm-up.ts';
import { Phones } from './phones.ts';
import type { TurnService } from '../turn/turn-service.ts';
import { demuxTurnOverTls } from '../turn/tls-demux.ts';
import { RoomState } from './room-state.ts';
import { RoomFanout } from './room-fanout.ts';
import { PeerToPeer } from './p2p.ts';
import { e2eeEnabled } from './e2ee.ts';
import { answerClientErrors } from '../net/http-client-error.ts';

export { TlsSetupError } from './tls.ts';

export interface SignalServer {
  httpsPort: number;
  /** 0 when the HTTP redirect is off (config.httpPort 0). */
  httpPort: number;
  /** True when HTTPS uses the self-signed certificate from dataDir. */
  selfSignedCertificate: boolean;
  /** WebSockets, rooms, participants, the caps' per-address entries: all 0 once everyone left. */
  resourceCounts(): Record<string, number>;
  /** Join times and refused credentials, for /metrics. */
  metrics: SignalMetrics;
  /** Reloaded settings (SIGHUP): access (mode, guests, JWT keys, admin accounts) for browsers and phone callers; throws when one is bad. */
  reconfigure(config: Config): void;
  close(): Promise<void>;
}

function listen(server: http.Server | https.Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const hint = e.code === 'EADDRINUSE' ? ' (another program uses it; choose another port)' : e.code === 'EACCES' ? ' (ports below 1024 need privileges)' : '';
      reject(new Error(`cannot listen for ${what} on ${host}:${port}: ${e.code ?? e.message}${hint}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startSignal(opts: {
  bus: Bus;
  config: Config;
  log: Logger;
  /** Directory of the built web app; default <repo>/dist/web. */
  webRoot?: string;
  /** TURN (src/turn/, started and stopped by the caller): credentials in `joined`, TURN over TLS on the HTTPS port. */
  turn?: TurnService;
}): Promise<SignalServer> {
  const { bus, config } = opts;
  const log = opts.log.child({ part: 'signal' });
  const material = await loadOrCreateTls(config, log);
  // config.domain: a certificate by ACME; until it arrives, the one kept from last time or the self-signed one
  let acme: AcmeCertificates | undefined;
  if (config.domain) {
    // acme-client (and its HTTP client) is loaded only for a server that has a domain
    const { AcmeCertificates } = await import('./acme.ts');
    // called only after start(), once httpsServer exists: new connections get the new certificate
    acme = new AcmeCertificates(config, log, (pair) => {
      httpsServer.setSecureContext(pair);
      serving = { pem: pair.cert, selfSigned: false };
    });
    const stored = acme.stored();
    if (stored) Object.assign(material, stored, { selfSigned: false, created: false, certPath: `${config.dataDir}/acme` });
  }

  /** The certificate HTTPS serves now (`tertulia status`). */
  let serving = { pem: material.cert, selfSigned: material.selfSigned };
  // resume tokens, chat history and the shared room items: in JetStream over NATS (any signal instance resumes a
  // browser and sees the room's subject, polls and recording), else here
  const roomState = await RoomState.open(bus, log);
  // someone is about to join (a room page's POST /media/warm-up, a recording starting): idle bridges start their
  // media workers now (at most one warm-up a second from this instance: bus/bridge-warm-up.ts)
  const bridgeWarmUp = new BridgeWarmUp(bus);
  const recordings = new Recordings(bus, log, roomState.items, bridgeWarmUp);
  // dial-in by PIN: the rooms' PINs, Jitsi's /conferenceMapper and /phoneNumberList, the sip part's lookups
  const pins = new DialInPins({ dataDir: config.dataDir, log });
  const dialIn = new DialInHttp({ pins, numbers: config.sipDialInNumbers, domain: config.domain, maxNewPinsPerMinute: config.maxRoomsPerAddressPerMinute, log });
  const unserveDialIn = serveDialIn(bus, pins);
  const staticFiles = createStaticHandler({
    webRoot: opts.webRoot ?? DEFAULT_WEB_ROOT,
    log,
    serveSourceMaps: config.serveSourceMaps,
    embedAllowedOrigins: config.embedAllowedOrigins,
  });
  let adminApi: AdminApi | undefined;
  const warmUp = new MediaWarmUp(bridgeWarmUp);
  // /api/...: the admin API (admin-api.ts); /recordings/<id>/<file>?t=<token>: downloads (recording-library.ts);
  // dial-in APIs (dial-in-http.ts); POST /media/warm-up (media-warm-up.ts); everything else: the web app
  const httpsServer = https.createServer({ cert: material.cert, key: material.key }, (req, res) => {
    if (!adminApi?.handleHttp(req, res) && !recordings.library.handleHttp(req, res) && !dialIn.handle(req, res) && !warmUp.handle(req, res)) staticFiles(req, res);
  });
  answerClientErrors(httpsServer);
  // TURN over TLS shares the HTTPS port: its connections go to coturn
  const turn = opts.turn;
  if (turn?.mode === 'coturn') turn.tlsCounters = demuxTurnOverTls(httpsServer, () => turn.tlsTarget(), log);
  // per-address and overall caps (connections, participants, rooms): counted by ws.ts and rooms.ts
  const caps = new Caps(config);
  const rooms = new Rooms(bus, log, caps, roomState);
  // over NATS there may be other signal instances: members of the same room on each see each other
  const fanout = config.natsUrl ? new RoomFanout(bus, log) : undefined;
  if (fanout) {
    rooms.fanout = fanout;
    fanout.start(rooms);
  }
  // who may join (open / accounts / token), lock, lobby, moderation; a bad setting stops the start here
  const phoneInvites = new PhoneInvites(bus, log, config.sipDialOutAnonymous);
  rooms.mayInviteByPhone = (m) => phoneInvites.mayInvite(m);
  const access = new Access({ config, rooms, log, recordings, phoneInvites });
  rooms.onPromotedElsewhere = (member) => access.moderation.promoteFromElsewhere(member);
  // lobby knocks: every instance's moderators see every knock, and answer it where its socket is
  rooms.onLobbyAnswer = (room, id, admit) => void access.moderation.answerKnock(room, id, admit);
  rooms.onInstanceSilent = (room, instance) => access.lobby.dropInstance(room, instance);
  rooms.onPolicyElsewhere = (room) => access.moderation.lobbyChanged(room);
  if (fanout) access.lobby.peers = { instance: fanout.instance, answer: (...a) => fanout.lobbyAnswer(...a) };
  adminApi = new AdminApi({ token: config.adminApiToken, jwt: config.adminApiJwt ? access.tokens : undefined, rooms, moderation: access.moderation, log });
  // signed POSTs of meeting events to webhookUrls
  const webhooks = config.webhookUrls.length > 0 ? new Webhooks({ urls: config.webhookUrls, secret: config.webhookSecret, log, recordings }) : undefined;
  webhooks?.watch(rooms);
  // phone callers, put in rooms by SIP gateways (the `sip` part) over the bus
  // the settings in effect: those of the start, then of each reload that access took (phones read them per call)
  let settings = config;
  const phones = new Phones({ bus, rooms, moderation: access.moderation, settings: () => settings, log });
  // the bridges heard on the bus (`tertulia status`)
  const bridges = new BridgeDirectory(bus);
  // focus's offers and the bridges' words for a browser or a room, to the sockets here
  const stopMediaWords = new MediaWords(rooms).listen(bus);
  // screen-share toggles: a renegotiation each, so the same per-participant limits as focus's
  const meeting = new MeetingFeatures(bus, log, { burst: config.renegotiationBurst, perSecond: config.renegotiationRate }, roomState.items);
  meeting.state = roomState;
  // the whiteboard and notes: kept with the room state, saved to dataDir when a meeting ends, listed with the recordings
  const boardArchive = new BoardArchive(config.dataDir, log);
  meeting.boards.state = roomState;
  meeting.boards.archive = boardArchive;
  meeting.boards.budgetBytes = config.maxBoardMemoryMb * 1024 * 1024;
  meeting.boards.watch(rooms);
  // several instances: each applies the others' board changes (board-sync.ts)
  const boardSync = fanout ? new BoardSync(bus, fanout.instance, log) : undefined;
  boardSync?.start(meeting.boards, rooms);
  recordings.library.archive = boardArchive;
  meeting.onRenamed = (member) => recordings.membersChanged(member.room);
  meeting.e2ee.plainConsumers = (room) => {
    const jobs = recordings.running(room);
    return jobs.length > 0 ? `the meeting is being ${jobs.includes('recording') ? 'recorded' : 'streamed live'}` : undefined;
  };
  rooms.onSpeaker = (room) => {
    meeting.speakerStats.speakerChanged(room);
    recordings.membersChanged(room);
  };
  rooms.onMuted = (room) => {
    meeting.speakerStats.settle(room);
    recordings.membersChanged(room);
  };
  rooms.onSpeakerSilence = (room) => meeting.speakerStats.speakerChanged(room);
  // follow me ends when its leader leaves the room (not when its connection drops and comes back)
  meeting.followMe.liveRoom = (key) => rooms.rooms.get(key);
  const accessOnLeft = rooms.onLeft;
  rooms.onLeft = (room, member, resumable) => {
    accessOnLeft?.(room, member, resumable);
    meeting.followMe.afterLeave(room, member, resumable);
  };
  rooms.watchMembers((room) => meeting.speakerStats.settle(room));
  // someone of a breakout meeting who is in another of its rooms is listed as such, not as gone
  meeting.speakerStats.elsewhere = (room, id) => everyoneIn(rooms.rooms, room.breakout?.main ?? room).some((m) => m.id === id);
  // breakout rooms: rooms of a meeting, entered by moves on the same socket (breakout-rooms.ts)
  const breakouts = new BreakoutRooms(rooms, log);
  breakouts.watch(rooms, access.moderation, meeting);
  access.onJoined = (session) => {
    meeting.afterJoin(session);
    recordings.afterJoin(session);
    // a reconnect (maybe through another instance) goes back into its breakout room
    breakouts.afterJoin(session);
  };
  breakouts.afterMove = (session) => {
    access.moderation.afterMove(session);
    meeting.afterJoin(session);
    recordings.afterJoin(session);
  };
  // peer-to-peer for two: started and ended as rooms' members and recordings change
  const p2p = new PeerToPeer({ enabled: config.p2p, log });
  // the browsers encrypt end to end on the bridge connection only: an encrypted room of two stays there
  p2p.keepOnBridge = (room) => recordings.running(room).length > 0 || e2eeEnabled(room);
  // a breakout room follows its main room's encryption: told with it, its peer-to-peer pair reconsidered with it
  meeting.e2ee.meetingRooms = (main) => [main, ...breakoutRoomsOf(rooms.rooms, main)];
  meeting.e2ee.onChanged = (room) => {
    for (const r of meeting.e2ee.meetingRooms(room)) p2p.reconsider(r);
  };
  rooms.watchMembers((room) => p2p.reconsider(room));
  recordings.onRunningChanged = (room) => p2p.reconsider(room);
  const videoConstraints = new VideoConstraintsForwarder(bus, log);
  const metrics = new SignalMetrics();
  const ws = attachWebSocket({
    server: httpsServer,
    rooms,
    meeting,
    breakouts,
    access,
    videoConstraints,
    p2p,
    participantTimeoutSeconds: config.participantTimeout,
    caps,
    joinTimeoutSeconds: config.joinTimeout,
    promptTimeoutSeconds: config.promptTimeout,
    metrics,
    iceServers: turn && ((host) => turn.iceServers(host)),
    regions: config,
    log,
  });

  let httpsPort = 0;
  let httpServer: http.Server | undefined;
  let httpPort = 0;
  let control: ControlSocket | undefined;
  try {
    httpsPort = await listen(httpsServer, config.httpsPort, config.listenAddress, 'HTTPS');
    if (config.httpPort !== 0) {
      const hosts = hostNames(config, { pem: material.cert, selfSigned: material.selfSigned });
      httpServer = http.createServer(createRedirectHandler({ httpsPort: () => httpsPort, hosts, acmeChallenge: acme && ((token) => acme.challengeAnswer(token)) }));
      answerClientErrors(httpServer);
      httpPort = await listen(httpServer, config.httpPort, config.listenAddress, 'the HTTP redirect');
    }
    // `tertulia play`, `tertulia tap` and `tertulia status` on this machine
    const startedAt = Date.now();
    const status = () => serverStatus({ version: VERSION, startedAt, rooms, recordings, bridges, certificate: () => ({ ...serving, domain: config.domain ?? '' }), turn: turn && (() => turn.status()), busLink: () => bus.link?.() });
    control = await startControlSocket({ dataDir: config.dataDir, rooms, bus, log, status, bridgeHold: (room) => p2p.hold(room) });
  } catch (e) {
    fanout?.close();
    boardSync?.close();
    stopMediaWords();
    unserveDialIn();
    phones.close();
    bridges.close();
    await ws.close();
    await closeServer(httpsServer);
    if (httpServer) await closeServer(httpServer);
    access.close();
    recordings.close();
    await webhooks?.close(0);
    throw e;
  }
  log.info({ httpsPort, httpPort, address: config.listenAddress, certificate: material.certPath }, 'signal listening');
  acme?.start();

  let closed: Promise<void> | undefined;
  return {
    httpsPort,
    httpPort,
    selfSignedCertificate: material.selfSigned,
    metrics,
    reconfigure: (next) => {
      access.reconfigure(next); // throws on a bad setting: nothing changes
      settings = next;
    },
    resourceCounts: () => ({ 'signal.sockets': ws.sessions.size, 'signal.phones': phones.size, ...rooms.resourceCounts(), ...caps.resourceCounts(), 'signal.p2pSessions': p2p.size, 'signal.boards': meeting.boards.usage().docs, 'signal.boardBytes': meeting.boards.usage().bytes }),
    close() {
      closed ??= (async () => {
        acme?.close();
        stopMediaWords();
        await control?.close();
        phones.close();
        bridges.close();
        await rooms.closeAll();
        await meeting.boards.flush();
        fanout?.close();
        boardSync?.close();
        // the rooms' last events (participants left, rooms finished), given a moment to leave
        await webhooks?.close();
        await ws.close();
        await Promise.all([closeServer(httpsServer), httpServer ? closeServer(httpServer) : Promise.resolve()]);
        access.close();
        recordings.close();
        unserveDialIn();
        await pins.flush();
        log.info('signal stopped');
      })();
      return closed;
    },
  };
}
