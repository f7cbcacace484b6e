// The SIP gateway's calls in meetings, for one gateway (one `sip` part): joins a caller to a room through
// signal (`signal.phone-join`, protocol/phone-messages.ts) as a MeetingLink, keeps one RoomMix per room its
// callers are in (opened with the first, closed after the last), renews its callers' lease at signal every
// PHONE_ALIVE_INTERVAL_MS, and hands signal's events (removed, muted) to the right call, and focus's news that a
// caller's endpoint moved to another bridge (`plain.<participantId>.moved`: the meeting's bridge went away).
import { randomInt } from 'node:crypto';
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import { plainMovedSchema, subjects } from '../protocol/bus-messages.ts';
import { PHONE_ALIVE_INTERVAL_MS, phoneEventSchema, phoneSubjects } from '../protocol/phone-messages.ts';
import type { MediaThreads } from './media/media-threads.ts';
import { MeetingLink, type MeetingLinkHost } from './meeting-link.ts';
import { RoomMix, type MixListener } from './room-mix.ts';

const SIGNAL_TIMEOUT_MS = 20_000;
/** A phone's join: signal's own work and focus's attach (which may wait for the bridge's media workers to start). */
const PHONE_JOIN_TIMEOUT_MS = FOCUS_ATTACH_TIMEOUT_MS + 10_000;

export interface CallerInfo {
  room: string;
  /** From's user part (a number): signal shows its last digits. */
  callerId?: string;
  /** From's display name. */
  callerName?: string;
}

export class MeetingGateway implements MeetingLinkHost {
  readonly gatewayId: string;
  private readonly bus: Bus;
  private readonly log: Logger;
  /** The address the bridge sends the rooms' audio to. */
  private readonly mediaAddress: string;
  /** Calls by participant id (unique per room; the conference id is checked too). */
  private readonly links = new Map<string, { link: MeetingLink; listener: MixListener; unsubscribeMoved: Unsubscribe }>();
  private readonly mixes = new Map<string, Promise<RoomMix>>();
  private readonly unsubscribe: Unsubscribe;
  private readonly aliveTimer: NodeJS.Timeout;

  /** The callers' voices and the rooms' mixes run on these threads (none: in this thread). */
  private readonly threads: MediaThreads | undefined;

  constructor(opts: { bus: Bus; log: Logger; gatewayId: string; mediaAddress: string; threads?: MediaThreads }) {
    this.bus = opts.bus;
    this.threads = opts.threads;
    this.log = opts.log;
    this.gatewayId = opts.gatewayId;
    this.mediaAddress = opts.mediaAddress;
    this.unsubscribe = this.bus.subscribe(phoneSubjects.event(this.gatewayId), (payload) => {
      const r = phoneEventSchema.safeParse(payload);
      if (!r.success) return;
      const entry = this.links.get(r.data.participantId);
      if (!entry) return;
      if (r.data.type === 'removed') {
        this.log.info({ participant: r.data.participantId, reason: r.data.reason }, 'a caller was taken out of the meeting');
        entry.link.removed(r.data.reason);
      } else entry.link.mutedBySignal(r.data.muted);
    });
    this.aliveTimer = setInterval(() => this.renew(), PHONE_ALIVE_INTERVAL_MS);
    this.aliveTimer.unref();
  }

  get calls(): number {
    return this.links.size;
  }

  /** Puts a caller in the room; rejects with signal's reason (BusCallError 'not-allowed': the room's rules). */
  async join(caller: CallerInfo): Promise<MeetingLink> {
    const ssrc = randomInt(1, 2 ** 32 - 1);
    const req = { gatewayId: this.gatewayId, room: caller.room, ssrc, ...(caller.callerId ? { callerId: caller.callerId.slice(0, 64) } : {}), ...(caller.callerName ? { callerName: caller.callerName.slice(0, 256) } : {}) };
    const joined = await callBus(this.bus, busCalls.signalPhoneJoin, '', req, PHONE_JOIN_TIMEOUT_MS);
    const link = new MeetingLink(this, this.log.child({ participant: joined.participantId }), ssrc, joined, this.threads);
    const listener: MixListener = {
      participantId: joined.participantId,
      get rate() {
        return link.hearRate;
      },
      onFrame: (f) => link.hear(f),
    };
    const unsubscribeMoved = this.bus.subscribe(subjects.plainMoved(joined.participantId), (payload) => {
      const r = plainMovedSchema.safeParse(payload);
      if (r.success && r.data.conferenceId === joined.conferenceId && r.data.endpointId === joined.participantId) link.moved(r.data);
    });
    this.links.set(joined.participantId, { link, listener, unsubscribeMoved });
    try {
      const mix = await this.mixFor(joined.conferenceId);
      if (!this.links.has(joined.participantId)) throw new Error('the caller was taken out while joining');
      mix.add(listener);
    } catch (e) {
      await link.close();
      throw e;
    }
    this.log.info({ room: joined.conferenceId, participant: joined.participantId }, 'a caller is in the meeting');
    return link;
  }

  private mixFor(conferenceId: string): Promise<RoomMix> {
    let mix = this.mixes.get(conferenceId);
    if (!mix) {
      mix = RoomMix.open(this.bus, this.log.child({ room: conferenceId }), conferenceId, this.gatewayId, this.mediaAddress, this.threads);
      this.mixes.set(conferenceId, mix);
      const removeAll = (reason: string) => {
        for (const { link } of [...this.links.values()]) if (link.conferenceId === conferenceId) link.removed(reason);
      };
      mix.then(
        (m) => {
          m.onEnded = () => removeAll('the meeting ended');
          // a dead mix is forgotten at once: a caller who comes meanwhile gets a new one, not silence
          m.onFailed = () => {
            if (this.mixes.get(conferenceId) === mix) this.mixes.delete(conferenceId);
            void m.close();
            removeAll('the gateway could not go on with the call');
          };
          if (m.hasFailed) m.onFailed(); // it died while opening, before anyone listened
        },
        () => this.mixes.delete(conferenceId),
      );
    }
    return mix;
  }

  async setMuted(link: MeetingLink, muted: boolean): Promise<boolean> {
    const r = await callBus(this.bus, busCalls.signalPhoneMute, '', { conferenceId: link.conferenceId, participantId: link.participantId, muted }, SIGNAL_TIMEOUT_MS);
    return r.muted;
  }

  /** Leaves in flight (close waits for them: signal must hear of each before this process stops). */
  private readonly leaving = new Set<Promise<void>>();

  leave(link: MeetingLink): Promise<void> {
    const p = this.leaveNow(link);
    this.leaving.add(p);
    void p.finally(() => this.leaving.delete(p));
    return p;
  }

  private async leaveNow(link: MeetingLink): Promise<void> {
    const entry = this.links.get(link.participantId);
    if (entry?.link !== link) return;
    this.links.delete(link.participantId);
    entry.unsubscribeMoved();
    const pending = this.mixes.get(link.conferenceId);
    if (pending) {
      try {
        const mix = await pending;
        mix.remove(entry.listener);
        if (mix.size === 0 && this.mixes.get(link.conferenceId) === pending && ![...this.links.values()].some((e) => e.link.conferenceId === link.conferenceId)) {
          this.mixes.delete(link.conferenceId);
          await mix.close();
        }
      } catch {
        // the mix never opened
      }
    }
    try {
      await callBus(this.bus, busCalls.signalPhoneLeave, '', { conferenceId: link.conferenceId, participantId: link.participantId, reason: 'the caller hung up' }, SIGNAL_TIMEOUT_MS);
    } catch (e) {
      this.log.warn({ participant: link.participantId, err: (e as Error).message }, 'telling signal the caller left failed');
    }
  }

  private renew(): void {
    if (this.links.size === 0) return;
    const phones = [...this.links.values()].map(({ link }) => ({ conferenceId: link.conferenceId, participantId: link.participantId }));
    this.bus.publish(phoneSubjects.alive, { gatewayId: this.gatewayId, phones });
  }

  /** Every caller leaves; the rooms' mixes close. */
  async close(): Promise<void> {
    clearInterval(this.aliveTimer);
    this.unsubscribe();
    await Promise.all([...this.links.values()].map(({ link }) => link.close()));
    await Promise.all([...this.leaving]);
    const mixes = [...this.mixes.values()];
    this.mixes.clear();
    await Promise.all(mixes.map((m) => m.then((x) => x.close(), () => {})));
  }
}
