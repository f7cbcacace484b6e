// Phone callers as participants (the SIP gateway's side in signal, protocol/phone-messages.ts): serves
// `signal.phone-join|leave|mute`, keeps each caller's gateway and lease, and tells the gateway what happened to
// its callers in the meeting (removed, muted). A caller joins as `tertulia play` does (plain-participant.ts),
// flagged `phone` in the roster. The room's rules apply as for a guest's browser: a caller cannot start a
// meeting in the accounts/token modes, and cannot wait in a lobby or type a password (refused for now, with the
// reason). The access settings are read on every join, so a reload (SIGHUP: authMode, allowGuests) applies to the
// next caller as to the next browser. A gateway silent for PHONE_LEASE_MS (its process died) has its callers taken out.
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import { BusCallError } from '../bus/bus.ts';
import { serveBus } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import {
  MAX_PHONES_PER_GATEWAY,
  PHONE_ALIVE_INTERVAL_MS,
  PHONE_LEASE_MS,
  phoneAliveSchema,
  phoneDisplayName,
  phoneSubjects,
  type PhoneEvent,
  type PhoneJoin,
} from '../protocol/phone-messages.ts';
import { roomKey, type ServerMessage } from '../protocol/signal-messages.ts';
import type { Moderation } from './moderation.ts';
import { joinPlainParticipant } from './plain-participant.ts';
import { e2eeEnabled, e2eeRefusal } from './e2ee.ts';
import { policyOf } from './room-policy.ts';
import { peopleIn, type Member, type Rooms, type Session } from './rooms.ts';

/** What decides whether a caller may start or enter a meeting: both reloadable (config/reload.ts). */
export type PhoneSettings = Pick<Config, 'authMode' | 'allowGuests'>;

interface Phone {
  gatewayId: string;
  session: Session;
  member?: Member;
  muted: boolean;
  lastSeen: number;
}

export class Phones {
  private readonly bus: Bus;
  private readonly rooms: Rooms;
  private readonly moderation: Moderation;
  /** The access settings in effect now (they change on a reload). */
  private readonly settings: () => PhoneSettings;
  private readonly log: Logger;
  /** By conference id + participant id. */
  private readonly byKey = new Map<string, Phone>();
  private readonly stops: Unsubscribe[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: { bus: Bus; rooms: Rooms; moderation: Moderation; settings: () => PhoneSettings; log: Logger }) {
    this.bus = opts.bus;
    this.rooms = opts.rooms;
    this.moderation = opts.moderation;
    this.settings = opts.settings;
    this.log = opts.log;
    this.stops.push(
      serveBus(this.bus, busCalls.signalPhoneJoin, '', (req) => this.join(req)),
      serveBus(this.bus, busCalls.signalPhoneLeave, '', (req) => {
        const phone = this.byKey.get(key(req.conferenceId, req.participantId));
        if (phone) this.leave(phone, req.reason);
        return { ok: true as const };
      }),
      serveBus(this.bus, busCalls.signalPhoneMute, '', (req) => {
        const phone = this.byKey.get(key(req.conferenceId, req.participantId));
        if (!phone?.member) throw new BusCallError('not-found', 'that caller is not in the meeting');
        this.moderation.selfMute(phone.session, 'audio', req.muted);
        if (phone.member.audioMuted !== req.muted) throw new BusCallError('not-allowed', 'a moderator has turned off unmuting for participants');
        return { muted: phone.member.audioMuted };
      }),
      this.bus.subscribe(phoneSubjects.alive, (payload) => this.alive(payload)),
    );
    this.sweeper = setInterval(() => this.sweep(), PHONE_ALIVE_INTERVAL_MS);
    this.sweeper.unref();
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Why a caller may not enter this room now, or undefined. */
  private async refusal(room: string): Promise<string | undefined> {
    const r = this.rooms.rooms.get(roomKey(room));
    const started = peopleIn(r) > 0;
    const { authMode, allowGuests } = this.settings();
    if (authMode !== 'open') {
      if (!allowGuests) return 'this server admits only signed-in hosts and invited guests';
      if (!started) return 'the meeting has not started: a host must start it first';
    }
    // nobody in: the lock and lobby kept for people who dropped hold a caller out as well
    const policy = !r || !started ? await this.rooms.keptPolicy(roomKey(room)) : policyOf(r);
    if (!policy) return undefined;
    if (r && started && e2eeEnabled(r)) return e2eeRefusal('joining by phone');
    if (policy.lobby) return 'the meeting has a lobby, which callers cannot wait in yet';
    if (policy.password !== undefined) return 'the meeting is locked with a password';
    return undefined;
  }

  private async join(req: PhoneJoin) {
    const refused = await this.refusal(req.room);
    if (refused) throw new BusCallError('not-allowed', refused);
    let ofGateway = 0;
    for (const p of this.byKey.values()) if (p.gatewayId === req.gatewayId) ofGateway++;
    if (ofGateway >= MAX_PHONES_PER_GATEWAY) throw new BusCallError('limit', `gateway ${req.gatewayId} has ${MAX_PHONES_PER_GATEWAY} callers in meetings already`);
    const phone: Phone = { gatewayId: req.gatewayId, session: { send: (m) => this.onMessage(phone, m) }, muted: false, lastSeen: Date.now() };
    const room = this.rooms.rooms.get(roomKey(req.room));
    // while a moderator has turned self-unmuting off, a caller joins muted (as a browser does)
    const audioMuted = room !== undefined && peopleIn(room) > 0 && !policyOf(room).selfUnmuteAllowed;
    const displayName = phoneDisplayName(req.callerId, req.callerName);
    let joined;
    try {
      joined = await joinPlainParticipant(this.rooms, this.bus, phone.session, { room: req.room, displayName, ssrcs: { audio: req.ssrc }, audioMuted, phone: true });
    } catch (e) {
      if (e instanceof BusCallError) throw e;
      throw new BusCallError('not-allowed', (e as Error).message);
    }
    const { member, attached } = joined;
    phone.member = member;
    phone.muted = member.audioMuted;
    this.byKey.set(key(member.room.key, member.id), phone);
    this.log.info({ room: member.room.key, participant: member.id, gateway: req.gatewayId }, 'a phone caller joined');
    const leg = attached.legs[0]!;
    return {
      conferenceId: member.room.key,
      participantId: member.id,
      displayName: member.displayName,
      audioMuted: member.audioMuted,
      address: attached.address,
      port: leg.port,
      srtpKey: attached.srtp.remoteKey,
    };
  }

  /** What signal tells the caller's "browser": turned into events for its gateway. */
  private onMessage(phone: Phone, m: ServerMessage): void {
    const member = phone.member;
    if (!member) return;
    if (m.type === 'removed' || m.type === 'meeting-ended') {
      this.forget(phone);
      this.tell(phone.gatewayId, { type: 'removed', participantId: member.id, reason: m.type === 'removed' ? `removed by ${m.by}` : `the meeting was ended by ${m.by}` });
    } else if (m.type === 'participant-updated' && m.participant.id === member.id && m.participant.audioMuted !== phone.muted) {
      phone.muted = m.participant.audioMuted;
      this.tell(phone.gatewayId, { type: 'muted', participantId: member.id, muted: phone.muted });
    }
  }

  private tell(gatewayId: string, event: PhoneEvent): void {
    this.bus.publish(phoneSubjects.event(gatewayId), event);
  }

  private alive(payload: unknown): void {
    const r = phoneAliveSchema.safeParse(payload);
    if (!r.success) return;
    const now = Date.now();
    for (const { conferenceId, participantId } of r.data.phones) {
      const phone = this.byKey.get(key(conferenceId, participantId));
      if (phone && phone.gatewayId === r.data.gatewayId) phone.lastSeen = now;
      else this.tell(r.data.gatewayId, { type: 'removed', participantId, reason: 'the caller is not in the meeting (any more)' });
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const phone of [...this.byKey.values()]) {
      if (phone.session.member === undefined) this.forget(phone);
      else if (now - phone.lastSeen > PHONE_LEASE_MS) this.leave(phone, 'its SIP gateway stopped answering');
    }
  }

  private forget(phone: Phone): void {
    if (phone.member) this.byKey.delete(key(phone.member.room.key, phone.member.id));
  }

  private leave(phone: Phone, reason: string): void {
    this.forget(phone);
    this.rooms.leave(phone.session, reason);
  }

  /** Stops serving; the gateways hang up their callers (signal stops, the rooms go). */
  close(): void {
    clearInterval(this.sweeper);
    for (const stop of this.stops) stop();
    for (const phone of this.byKey.values()) {
      if (phone.member) this.tell(phone.gatewayId, { type: 'removed', participantId: phone.member.id, reason: 'the meeting server stops' });
    }
    this.byKey.clear();
  }
}

function key(conferenceId: string, participantId: string): string {
  return `${conferenceId}\n${participantId}`;
}
