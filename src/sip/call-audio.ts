// The two halves of a phone call's audio and what passes between them: 20 ms frames of mono 16-bit PCM at one
// of two rates, told by the frame's length: 8 kHz (160 samples, a G.711 phone's own rate) or 48 kHz (960, Opus's).
// Each call keeps its phone's rate across the halves, so a G.711 call is never resampled: its voice is coded as
// narrowband Opus from 8 kHz and the room is mixed for it at 8 kHz (issue 15's CPU goal). Either side takes a
// frame of the other rate too (a 48 kHz prompt played to a G.711 phone), converting it. The phone side (`media/phone-media.ts`) turns the phone's RTP into such frames and
// frames into RTP for the phone; the meeting side (`meeting-link.ts`) sends the caller's frames into the
// meeting as Opus and gives back what the caller hears (the room's mix without the caller's own voice). A call
// (`call.ts`) joins the two, and the PIN menu (`pin-menu.ts`) plays its prompts through the same `play`.

/** Samples in one frame: 20 ms at 48 kHz, mono. */
export const FRAME_SAMPLES = 960;
export const FRAME_MS = 20;
export const SAMPLE_RATE = 48_000;
/** A G.711 phone's rate and its 20 ms frame. */
export const NARROW_RATE = 8000;
export const NARROW_FRAME_SAMPLES = 160;

/** The rates a frame may have. */
export type AudioRate = typeof NARROW_RATE | typeof SAMPLE_RATE;

/** Samples in a 20 ms frame at `rate`. */
export function frameSamples(rate: AudioRate): number {
  return rate === NARROW_RATE ? NARROW_FRAME_SAMPLES : FRAME_SAMPLES;
}

/** The rate of a 20 ms frame, by its length; null for any other length. */
export function rateOfFrame(frame: Int16Array): AudioRate | null {
  return frame.length === FRAME_SAMPLES ? SAMPLE_RATE : frame.length === NARROW_FRAME_SAMPLES ? NARROW_RATE : null;
}

/** A DTMF key: 0-9, *, #, A-D. */
export type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** The phone's side of a call. */
export interface PhoneAudio {
  /** The phone's own rate (its codec's: 8 kHz for G.711, 48 kHz for Opus): `onVoice`'s frames, what `play` wants. */
  readonly rate: AudioRate;
  /** What the caller says, one frame (at `rate`) each 20 ms while they send (after the jitter buffer). */
  onVoice: ((frame: Int16Array) => void) | undefined;
  /** A key the caller pressed (RFC 4733 telephone-event, or SIP INFO handed in by the call), once per press. */
  onDigit: ((digit: Digit) => void) | undefined;
  /** One frame (either rate) for the caller to hear; sent at once (the caller of play keeps the 20 ms pace). */
  play(frame: Int16Array): void;
  close(): void;
}

/** The meeting's side of a call: the caller as a participant of a room. */
export interface MeetingAudio {
  /** The caller's voice, one frame (either rate) each 20 ms, into the meeting (dropped while muted). */
  send(frame: Int16Array): void;
  /** The rate of the frames `onHear` gives (the phone's; 48 kHz unless set). */
  hearRate: AudioRate;
  /** What the caller hears: one frame each 20 ms, the room's loudest voices mixed without the caller's own. */
  onHear: ((frame: Int16Array) => void) | undefined;
  /** The caller was removed by a moderator or the meeting ended: the call hangs up. */
  onRemoved: ((reason: string) => void) | undefined;
  /** Muted by a moderator or by the caller's *6; true when muted. */
  onMuted: ((muted: boolean) => void) | undefined;
  /** The caller's own *6. */
  setMuted(muted: boolean): void;
  /** Leaves the meeting (the participant is gone for everyone). */
  close(): Promise<void>;
}
