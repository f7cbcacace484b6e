// The meeting's side of one phone call (MeetingAudio of call-audio.ts): the caller is a participant that signal
// made (`signal.phone-join`), whose voice goes to the bridge's plain port as Opus in SRTP through its uplink
// (media/voice-uplink.ts: one encoder per call, narrowband from a G.711 phone's 8 kHz frames, wideband from an Opus
// phone's 48 kHz ones, each packet with its RFC 6464 audio level so the caller can become the active speaker; on
// the room's media thread when the gateway has them, media/media-threads.ts); what the caller hears comes from the
// room's shared mix (room-mix.ts). Made and tracked by MeetingGateway (meeting-gateway.ts), which hands it
// signal's events (removed, muted) and focus's `plain.<participantId>.moved` (the meeting's bridge went away: the
// voice goes to the new bridge's port with its key, the call stays up).
import type { Logger } from '../log.ts';
import type { PlainMoved } from '../protocol/bus-messages.ts';
import type { PhoneJoinReply } from '../protocol/phone-messages.ts';
import { rateOfFrame, SAMPLE_RATE, type AudioRate, type MeetingAudio } from './call-audio.ts';
import { localUplink, type Uplink, type MediaThreads } from './media/media-threads.ts';

export interface MeetingLinkHost {
  /** Asks signal to mute or unmute the caller (its own *6); resolves with the state signal applied. */
  setMuted(link: MeetingLink, muted: boolean): Promise<boolean>;
  /** The caller leaves (signal, the room's mix). */
  leave(link: MeetingLink): Promise<void>;
}

export class MeetingLink implements MeetingAudio {
  readonly conferenceId: string;
  readonly participantId: string;
  readonly displayName: string;
  private readonly host: MeetingLinkHost;
  private readonly log: Logger;
  /** Where the caller's voice is encoded and sent. */
  private readonly uplink: Uplink;
  private muted: boolean;
  private closed = false;
  private closing: Promise<void> | undefined;
  readonly counters = { sent: 0, droppedMuted: 0, badFrames: 0 };
  hearRate: AudioRate = SAMPLE_RATE;
  onHear: ((frame: Int16Array) => void) | undefined;
  onRemoved: ((reason: string) => void) | undefined;
  onMuted: ((muted: boolean) => void) | undefined;

  constructor(host: MeetingLinkHost, log: Logger, ssrc: number, joined: PhoneJoinReply, pool?: MediaThreads) {
    this.host = host;
    this.log = log;
    this.conferenceId = joined.conferenceId;
    this.participantId = joined.participantId;
    this.displayName = joined.displayName;
    this.muted = joined.audioMuted;
    const spec = { ssrc, srtpKey: joined.srtpKey, address: joined.address, port: joined.port };
    this.uplink = pool ? pool.uplink(spec, () => this.uplinkFailed(), joined.conferenceId) : localUplink(spec);
  }

  get isMuted(): boolean {
    return this.muted;
  }

  send(frame: Int16Array): void {
    if (this.closed) return;
    if (this.muted) {
      this.counters.droppedMuted++;
      return;
    }
    if (rateOfFrame(frame) === null) {
      this.counters.badFrames++;
      return;
    }
    this.counters.sent++;
    this.uplink.send(frame);
  }

  setMuted(muted: boolean): void {
    if (this.closed || muted === this.muted) return;
    // muting takes effect at once; unmuting once signal allowed it (a moderator may have turned it off)
    if (muted) this.mutedBySignal(true);
    this.host.setMuted(this, muted).then(
      (now) => this.mutedBySignal(now),
      (e: unknown) => {
        this.log.info({ participant: this.participantId, err: (e as Error).message }, 'the caller could not unmute');
        this.onMuted?.(this.muted);
      },
    );
  }

  /** Signal muted or unmuted the caller (a moderator, or its own *6). */
  mutedBySignal(muted: boolean): void {
    if (this.closed || muted === this.muted) return;
    this.muted = muted;
    this.onMuted?.(muted);
  }

  /** Signal took the caller out (a moderator, the meeting ended): the call hangs up. */
  removed(reason: string): void {
    if (this.closed) return;
    this.onRemoved?.(reason);
    void this.close();
  }

  /** The thread sending the caller's voice died: the call cannot go on (it hangs up). */
  private uplinkFailed(): void {
    this.log.warn({ participant: this.participantId }, "the caller's voice can no longer be sent: hanging up");
    this.removed('the gateway could not go on with the call');
  }

  /** Focus made the caller's plain endpoint again on another bridge: the voice goes there from the next frame. */
  moved(m: PlainMoved): void {
    const leg = m.legs[0];
    if (this.closed || !leg || !m.srtp) return;
    this.uplink.repoint({ address: m.address, port: leg.port, srtpKey: m.srtp.remoteKey });
    this.log.info({ bridge: m.bridgeId }, "the caller's voice goes to the meeting's new bridge");
  }

  /** A frame of the room's mix. */
  hear(frame: Int16Array): void {
    if (!this.closed) this.onHear?.(frame);
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.uplink.close();
    this.closing = this.host.leave(this);
    return this.closing;
  }
}
