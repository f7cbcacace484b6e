// One phone call into a meeting: the SIP dialog, the phone's audio (PhoneAudio: RTP with the phone) and the
// meeting's (MeetingAudio: the caller as a participant), joined. What the caller says goes to the meeting, what
// the room says (its mix without the caller) to the phone; *6 mutes and unmutes (a short tone tells the caller:
// two low beeps muted, one high beep unmuted), a moderator's remove hangs up (BYE), the caller's BYE leaves the
// meeting. `takeCall` runs an INVITE from the start: the room (dial-in.ts; none: the PIN menu when there is one,
// else 404), the phone's SDP offer checked (unusable: 488, before anything else is done for the call, so it never
// shows in a meeting), the meeting join (refused: 403 with signal's reason, 503 when full, 480 otherwise), the
// phone's SDP answer (refused: 488), then 200. Every refusal goes to `onRefused` with its reason (logged at info).
import { BusCallError } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { FRAME_SAMPLES, SAMPLE_RATE, type Digit, type MeetingAudio, type PhoneAudio } from './call-audio.ts';
import { callerOf, dialInTarget } from './dial-in.ts';
import type { Dialog, Dialogs } from './dialogs.ts';
import { RtpPortsExhausted } from './media/rtp-session.ts';
import { responseTo, type SipRequest } from './message.ts';
import type { Respond } from './transactions.ts';
import type { SipSource } from './transport.ts';

/** The phone's side as a call uses it: PhoneAudio, and the answer to a re-INVITE's offer (hold, unhold). */
export interface PhoneSide extends PhoneAudio {
  /** The SDP answer to a new offer from the phone; throws when it cannot be taken (488). */
  answer?(offer: string): string;
}

/** The meeting's side as a call uses it: MeetingAudio, and whether the caller joined muted (MeetingLink has it). */
export type MeetingSide = MeetingAudio & { readonly isMuted?: boolean };

/** Opens the phone's media for its offer: the media and our SDP answer; throws when the offer is refused (488). */
export type AnswerPhone = (offer: string) => Promise<{ media: PhoneSide; sdp: string }>;

/** Checks an offer without opening anything (PhoneSdp.check); throws what answerPhone would for it (488). */
export type CheckOffer = (offer: string) => void;

export interface CallDeps {
  dialogs: Dialogs;
  /** Puts the caller in a room (MeetingGateway.join). */
  joinMeeting(caller: { room: string; callerId?: string; callerName?: string }): Promise<MeetingSide>;
  answerPhone: AnswerPhone;
  /** Run before the meeting is joined: an offer answerPhone would refuse never puts the caller in a meeting. */
  checkOffer: CheckOffer;
  log: Logger;
  /** A call refused, with its status and reason (SipServer.refused: an info line); default: an info line here. */
  onRefused?: (from: SipSource, status: number, reason: string, fields?: Record<string, unknown>) => void;
  /**
   * A call that names no room: the PIN menu (pin-menu.ts's runPinMenu), run on the answered call, gives the room
   * (null: hang up); `signal` aborts when the caller hangs up meanwhile. Without one such calls are refused 404.
   */
  pinMenu?: (phone: PhoneSide, signal: AbortSignal) => Promise<string | null>;
  /** Each call that got into a meeting, until it ends. */
  onCall?: (call: Call) => void;
}

/** Keys within this long of each other make one code (*6). */
const CODE_GAP_MS = 3000;
/** *6 at most this often (each is a request to signal). */
const MUTE_TOGGLE_MS = 1000;

export class Call {
  readonly dialog: Dialog;
  readonly phone: PhoneSide;
  readonly meeting: MeetingSide;
  private readonly log: Logger;
  private readonly hangUp: () => void;
  private lastKey: { digit: Digit; at: number } | null = null;
  private lastToggle = 0;
  /** Notice tone frames still to mix into what the caller hears. */
  private notice: Int16Array[] = [];
  private ended = false;
  /** As the meeting last said (*6 asks for the opposite). */
  private muted: boolean;
  onEnded: () => void = () => {};

  constructor(dialog: Dialog, phone: PhoneSide, meeting: MeetingSide, opts: { log: Logger; hangUp: () => void }) {
    this.muted = meeting.isMuted ?? false;
    this.dialog = dialog;
    this.phone = phone;
    this.meeting = meeting;
    this.log = opts.log;
    this.hangUp = opts.hangUp;
    // the phone's own rate both ways: a G.711 call is never resampled
    meeting.hearRate = phone.rate;
    phone.onVoice = (frame) => meeting.send(frame);
    meeting.onHear = (frame) => phone.play(this.withNotice(frame));
    phone.onDigit = (d) => this.onDigit(d);
    dialog.onInfoDigit = (d) => this.onDigit(d as Digit);
    meeting.onMuted = (muted) => {
      if (muted === this.muted) return; // a *6 that was refused: nothing changed
      this.muted = muted;
      this.log.info({ muted }, muted ? 'the caller is muted' : 'the caller is unmuted');
      this.notice = noticeTone(muted);
    };
    meeting.onRemoved = (reason) => {
      this.log.info({ reason }, 'the caller was taken out of the meeting: hanging up');
      this.end();
      this.hangUp();
    };
    dialog.onEnded = (reason) => {
      this.log.info({ reason }, 'the call ended');
      this.end();
    };
    dialog.onReinvite = (sdp) => {
      try {
        const answer = phone.answer ? phone.answer(sdp) : null;
        meeting.hearRate = phone.rate; // the codec may have changed
        return answer;
      } catch {
        return null;
      }
    };
  }

  private onDigit(digit: Digit): void {
    const now = Date.now();
    const last = this.lastKey;
    this.lastKey = { digit, at: now };
    if (digit === '6' && last?.digit === '*' && now - last.at <= CODE_GAP_MS && now - this.lastToggle >= MUTE_TOGGLE_MS) {
      this.lastKey = null;
      this.lastToggle = now;
      this.meeting.setMuted(!this.muted);
    }
  }

  private withNotice(frame: Int16Array): Int16Array {
    const tone = this.notice.shift();
    if (!tone) return frame;
    // the tone at the frame's rate: every step-th sample of the 48 kHz one
    const step = Math.max(1, Math.round(tone.length / frame.length));
    const out = new Int16Array(frame.length);
    for (let i = 0; i < frame.length; i++) out[i] = Math.max(-32768, Math.min(32767, frame[i]! + (tone[i * step] ?? 0)));
    return out;
  }

  /** Leaves the meeting and closes the phone's media (once). */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.phone.onVoice = undefined;
    this.meeting.onHear = undefined;
    this.phone.close();
    this.meeting.close().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'leaving the meeting failed'));
    this.onEnded();
  }
}

/** Two low beeps (muted) or one high beep (unmuted), as 20 ms frames at 48 kHz (880 Hz is far below 4 kHz: taking
 * every sixth sample makes the same tone at 8 kHz). */
function noticeTone(muted: boolean): Int16Array[] {
  const pattern = muted ? [440, 440, 440, 440, 440, 0, 0, 0, 0, 440, 440, 440, 440, 440] : [880, 880, 880, 880, 880, 880, 880, 880];
  return pattern.map((hz, n) => {
    const f = new Int16Array(FRAME_SAMPLES);
    if (hz > 0) for (let i = 0; i < FRAME_SAMPLES; i++) f[i] = Math.round(6000 * Math.sin((2 * Math.PI * hz * (n * FRAME_SAMPLES + i)) / SAMPLE_RATE));
    return f;
  });
}

/** SIP status and reason for a meeting join that failed. */
function joinRefusal(e: unknown): { status: number; reason: string } {
  if (e instanceof BusCallError && e.code === 'not-allowed') return { status: 403, reason: e.message };
  if (e instanceof BusCallError && (e.code === 'no-capacity' || e.code === 'limit')) return { status: 503, reason: 'the meeting server is full' };
  return { status: 480, reason: 'the meeting cannot be joined now' };
}

/** SIP status and reason for a phone side that could not be set up: no free RTP ports (503), else its offer is refused (488). */
function phoneRefusal(e: unknown): { status: number; reason: string; phrase: string } {
  if (e instanceof RtpPortsExhausted) return { status: 503, reason: 'no free RTP ports', phrase: 'Service Unavailable (no free RTP ports)' };
  const reason = (e as Error).message;
  return { status: 488, reason: `the offer: ${reason}`, phrase: phrase(`Not Acceptable Here (${reason})`) };
}

/** A SIP reason phrase: one line of printable text. */
function phrase(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, ' ').slice(0, 120);
}

/** Handles a new INVITE to the end of its call (SipServer's onInvite). Never throws. */
export async function takeCall(invite: SipRequest, respond: Respond, source: SipSource, deps: CallDeps): Promise<void> {
  const { dialogs } = deps;
  const callId = invite.headers.get('call-id')?.slice(0, 64);
  const log = deps.log.child({ call: callId });
  const refused = (status: number, reason: string, fields: Record<string, unknown> = {}) => {
    if (deps.onRefused) deps.onRefused(source, status, reason, { call: callId, ...fields });
    else log.info({ ...fields, status, reason, from: source.address }, 'call refused');
  };
  if (!dialogs.admit(invite, respond)) return refused(422, 'its session interval is below our minimum'); // 422 sent
  const dialog = dialogs.create(invite, respond, source);
  if (!dialog) {
    refused(503, 'too many calls');
    respond(responseTo(invite, 503, undefined, 'Service Unavailable (too many calls)'));
    return;
  }
  const refusePhone = (e: unknown, fields: Record<string, unknown> = {}) => {
    const r = phoneRefusal(e);
    refused(r.status, r.reason, fields);
    dialogs.refuse(dialog, r.status, r.phrase);
  };
  let gone = false;
  const ended = new AbortController();
  // cancelled before it was answered, or hung up in the PIN menu
  dialog.onEnded = () => {
    gone = true;
    ended.abort();
  };
  const target = dialInTarget(invite);
  if ('invalid' in target) {
    refused(404, target.invalid);
    return dialogs.refuse(dialog, 404, phrase(target.invalid));
  }
  if ('menu' in target && !deps.pinMenu) {
    refused(404, 'no meeting named, and no PIN menu');
    return dialogs.refuse(dialog, 404, 'Not Found (no meeting named: dial sip:room@gateway or send X-Room-Name)');
  }
  const offer = invite.body.toString('utf8');
  // an offer the phone side would refuse: 488 now, before a meeting (a bridge endpoint, the others' rosters,
  // webhooks) hears of the call
  try {
    deps.checkOffer(offer);
  } catch (e) {
    return refusePhone(e, 'room' in target ? { room: target.room } : {});
  }
  dialogs.provisional(dialog, 180);

  let phone: PhoneSide | undefined;
  let meeting: MeetingSide | undefined;
  const undo = () => {
    phone?.close();
    meeting?.close().catch(() => {});
  };
  try {
    let room: string;
    if ('room' in target) {
      room = target.room;
      try {
        meeting = await deps.joinMeeting({ room, ...callerOf(invite) });
      } catch (e) {
        const r = joinRefusal(e);
        refused(r.status, `the meeting could not be joined: ${(e as Error).message}`, { room });
        return dialogs.refuse(dialog, r.status, phrase(r.reason));
      }
      // removed (or the meeting ended) before the call is answered: refused below
      meeting.onRemoved = () => (gone = true);
      if (gone) return undo();
      try {
        const answered = await deps.answerPhone(offer);
        phone = answered.media;
        if (gone) {
          undo();
          log.info({ room }, 'the call ended before it was answered');
          return dialogs.refuse(dialog, 480);
        }
        dialogs.answer(dialog, answered.sdp);
      } catch (e) {
        undo();
        return refusePhone(e, { room });
      }
    } else {
      // the PIN menu runs on the answered call, then the caller joins
      try {
        const answered = await deps.answerPhone(offer);
        phone = answered.media;
        if (gone) return undo();
        dialogs.answer(dialog, answered.sdp);
      } catch (e) {
        undo();
        return refusePhone(e);
      }
      // keys by SIP INFO reach the menu as the phone's RFC 4733 ones do (the menu holds phone.onDigit meanwhile)
      const keysFrom = phone;
      dialog.onInfoDigit = (d) => keysFrom.onDigit?.(d as Digit);
      const chosen = await deps.pinMenu!(phone, ended.signal);
      if (gone) return undo();
      if (chosen === null) {
        undo();
        return dialogs.hangUp(dialog);
      }
      room = chosen;
      try {
        meeting = await deps.joinMeeting({ room, ...callerOf(invite) });
      } catch (e) {
        log.info({ room, err: (e as Error).message }, 'the caller could not join the meeting the PIN named');
        undo();
        return dialogs.hangUp(dialog);
      }
      if (gone) return undo();
    }
    const call = new Call(dialog, phone, meeting, { log: log.child({ room }), hangUp: () => dialogs.hangUp(dialog) });
    log.info({ room }, 'a call is in the meeting');
    deps.onCall?.(call);
  } catch (e) {
    log.error({ err: (e as Error).message }, 'call handling failed');
    undo();
    if (dialog.state === 'early') dialogs.refuse(dialog, 500);
    else dialogs.hangUp(dialog);
  }
}
