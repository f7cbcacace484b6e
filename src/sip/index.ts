// sip: the SIP gateway part (issue 15, docs/SIP.md). Phones call a room (`sip:room@gateway`, or an
// `X-Room-Name` header) and take part in its meeting by voice: the SIP front (sip-server.ts, dialogs.ts), the
// phone's media (media/phone-media.ts), the meeting's (meeting-gateway.ts: through signal and focus on the bus,
// so this part may run in any process) and the call joining them (call.ts). Entry: startSip({bus, config, log}).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Bus } from '../bus/bus.ts';
import { BridgeWarmUp } from '../bus/bridge-warm-up.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { takeCall, type AnswerPhone, type Call, type CallDeps, type CheckOffer } from './call.ts';
import { Dialogs } from './dialogs.ts';
import { MeetingGateway } from './meeting-gateway.ts';
import { MediaThreads } from './media/media-threads.ts';
import { PhoneMedia } from './media/phone-media.ts';
import { PhoneSdp } from './media/sdp-offer-answer.ts';
import { RtpPortRange } from './media/rtp-session.ts';
import { SipServer } from './sip-server.ts';
import { MALFORMED_REASONS, type MalformedReason } from './transport.ts';
import { dialOutMedia } from './dial-out-calls.ts';
import { startDialOut } from './dial-out-service.ts';
import { readCertificate, sipCertificateFiles, watchCertificate } from './sip-tls.ts';
import { pinLookupOverBus } from './pin-lookup.ts';
import { SipCallStats, type CallDirection } from './call-stats.ts';
import { runPinMenu } from './pin-menu.ts';
import { loadPrompts } from './prompts.ts';

export interface SipPart {
  gatewayId: string;
  /** The SIP port (UDP and TCP). */
  port: number;
  /** The address in our SDP (where phones send audio). */
  mediaAddress: string;
  /** Calls in meetings now. */
  readonly calls: number;
  /** Calls in meetings now and since the start, by direction (for /metrics). */
  readonly callStats: SipCallStats;
  /** Messages not taken since the start, by reason (transport.ts MalformedReason), for /metrics. */
  malformedMessages(): Record<MalformedReason, number>;
  /** Calls refused since the start, by SIP status ("404", "488"...), for /metrics. */
  refusedCalls(): Record<string, number>;
  resourceCounts(): Record<string, number>;
  close(): Promise<void>;
}

/** sipPublicAddress, else publicAddress, else this machine's first LAN IPv4 address (loopback when none). */
export function sipMediaAddressFor(config: Pick<Config, 'sipPublicAddress' | 'publicAddress'>): string {
  if (config.sipPublicAddress) return config.sipPublicAddress;
  if (config.publicAddress) return config.publicAddress;
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/**
 * The voice menu that asks a caller who named no room for the meeting's PIN (in sipLanguage), rooms looked up
 * at signal over the bus. Without its prompts (not built: scripts/build-prompts.ts) such calls are refused 404
 * and the gateway says so at start, while calls to a named room still work.
 */
function defaultPinMenu(bus: Bus, config: Config, log: Logger): CallDeps['pinMenu'] {
  let prompts: ReturnType<typeof loadPrompts>;
  try {
    prompts = loadPrompts(config.sipLanguage);
  } catch (e) {
    log.error({ err: (e as Error).message }, 'no PIN menu: calls that name no room are refused');
    return undefined;
  }
  const lookup = pinLookupOverBus(bus);
  return async (phone, signal) => {
    const r = await runPinMenu({ phone, prompts, lookup, signal });
    if (r.outcome === 'joined') return r.room;
    log.info({ reason: r.reason }, 'a caller left the PIN menu');
    return null;
  };
}

export async function startSip(opts: {
  bus: Bus;
  config: Config;
  log: Logger;
  /** The phone's media for an offer (tests: another implementation). */
  answerPhone?: AnswerPhone;
  /** The check of an offer before the caller joins (default: PhoneSdp.check, what the default answerPhone checks). */
  checkOffer?: CheckOffer;
  /** The PIN menu for calls that name no room (default: pin-menu.ts with the built prompts). */
  pinMenu?: CallDeps['pinMenu'];
}): Promise<SipPart> {
  const { bus, config } = opts;
  const gatewayId = `gw-${randomBytes(4).toString('hex')}`;
  const log = opts.log.child({ part: 'sip', gateway: gatewayId });
  const pinMenu = opts.pinMenu ?? defaultPinMenu(bus, config, log);
  const mediaAddress = sipMediaAddressFor(config);
  // the callers' voices (and with sipMixOnThreads the rooms' mixes) run on threads of their own, one per core but
  // this one, started with the first call (media-threads.ts)
  const mediaThreads = os.availableParallelism() - 1;
  const threads = mediaThreads > 0 ? new MediaThreads(mediaThreads, log, { mixRooms: config.sipMixOnThreads }) : undefined;
  const meetings = new MeetingGateway({ bus, log, gatewayId, mediaAddress: config.sipMediaAddress, ...(threads ? { threads } : {}) });
  // at most one warm-up a second from this gateway, however many INVITEs come (bus/bridge-warm-up.ts)
  const warmUp = new BridgeWarmUp(bus);
  const calls = new Set<Call>();
  let dialogs: Dialogs | undefined;
  const ports = new RtpPortRange(config.sipRtpPortMin, config.sipRtpPortMax);
  const answerPhone: AnswerPhone = opts.answerPhone ?? ((offer) => PhoneMedia.forOffer(offer, { ports, address: mediaAddress, bindAddress: config.sipAddress }));
  const checkOffer: CheckOffer = opts.checkOffer ?? ((offer) => void PhoneSdp.check(offer));
  // SIP over TLS with the configured (or ACME) certificate, when there is one
  const certificateFiles = sipCertificateFiles(config);
  const certificate = certificateFiles ? readCertificate(certificateFiles) : undefined;
  if (certificateFiles && !certificate) log.warn({ cert: certificateFiles.cert }, 'SIP over TLS is off: its certificate cannot be read yet (it starts with the next start)');
  const callStats = new SipCallStats();
  const keep = (call: Call, direction: CallDirection) => {
    calls.add(call);
    callStats.started(direction);
    call.onEnded = () => {
      if (calls.delete(call)) callStats.ended(direction);
    };
  };
  const server = new SipServer({
    address: config.sipAddress,
    port: config.sipPort,
    ...(certificate ? { tls: { port: config.sipTlsPort, ...certificate } } : {}),
    log,
    onInvite: (req, respond, from) => {
      if (!dialogs) return;
      // a caller is on the way (PIN menu, then the join): idle bridges start their media workers meanwhile
      warmUp.request();
      void takeCall(req, respond, from, {
        dialogs,
        joinMeeting: (caller) => meetings.join(caller),
        answerPhone,
        checkOffer,
        ...(pinMenu ? { pinMenu } : {}),
        log,
        onRefused: (...refusal) => server.refused(...refusal),
        onCall: (call) => keep(call, 'in'),
      });
    },
    onDialogRequest: (req, respond) => dialogs?.handle(req, respond) ?? false,
    onResponse: (res) => dialogs?.handleResponse(res) ?? false,
  });
  let port: number;
  try {
    port = await server.listen();
  } catch (e) {
    await meetings.close();
    await threads?.close();
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EADDRINUSE' ? ' (another program uses it: choose another sipPort)' : err.code === 'EACCES' ? ' (ports below 1024 need privileges)' : '';
    throw new Error(`cannot listen for SIP on ${config.sipAddress}:${config.sipPort} (TLS ${config.sipTlsPort}): ${err.code ?? err.message}${hint}`);
  }
  const tlsPort = server.tlsPort;
  const unwatch = certificateFiles?.renewed && tlsPort ? watchCertificate(certificateFiles, (pair) => server.setCertificate(pair)) : () => {};
  dialogs = new Dialogs(`sip:gw@${mediaAddress}:${port};transport=udp`, tlsPort ? `sip:gw@${mediaAddress}:${tlsPort};transport=tls` : undefined);
  // "Invite by phone": calls out through the trunk (sipTrunk*), the callee joining the room as a call in does
  let dialOut: Awaited<ReturnType<typeof startDialOut>>;
  try {
    dialOut = await startDialOut({
      bus,
      config,
      server,
      dialogs,
      local: { transport: 'udp', host: mediaAddress, port },
      log,
      media: dialOutMedia({ dialogs, meetings, phone: { ports, address: mediaAddress, bindAddress: config.sipAddress }, log, onCall: (call) => keep(call, 'out') }),
    });
  } catch (e) {
    unwatch();
    await meetings.close();
    await threads?.close();
    await server.close();
    throw new Error(`cannot open the SIP trunk ${config.sipTrunkUri}: ${(e as Error).message}`);
  }
  log.info({ port, ...(tlsPort ? { tlsPort } : {}), mediaAddress, trunk: config.sipTrunkUri || undefined }, 'SIP gateway taking calls');
  let closed: Promise<void> | undefined;
  return {
    gatewayId,
    port,
    mediaAddress,
    get calls() {
      return calls.size;
    },
    callStats,
    refusedCalls() {
      return Object.fromEntries([...server.refusedByStatus].map(([status, n]) => [String(status), n]));
    },
    malformedMessages() {
      const c = server.counters;
      return Object.fromEntries(MALFORMED_REASONS.map((r) => [r, c[r]])) as Record<MalformedReason, number>;
    },
    resourceCounts: () => ({ 'sip.dialogs': dialogs?.size ?? 0, 'sip.calls': calls.size, 'sip.meetingLinks': meetings.calls }),
    close() {
      closed ??= (async () => {
        // BYE to every caller, then out of the meetings
        unwatch();
        await dialOut.close();
        dialogs?.closeAll();
        await meetings.close();
        await threads?.close();
        await server.close();
        log.info('SIP gateway stopped');
      })();
      return closed;
    },
  };
}
