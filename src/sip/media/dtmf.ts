// RFC 4733 telephone-events -> keys. A phone sends each key press as a run of RTP packets sharing one RTP
// timestamp (the event's start): updates while the key is held, then the end bit, usually three times. One
// press gives one digit, at its first end packet; the retransmitted ends (same timestamp) are ignored. When
// every end packet was lost, the press still counts once the next event (another timestamp) begins.
// Events 0-15 are the keys; others (flash, line tones) are ignored. Never throws; short payloads are dropped.
import type { Digit } from '../call-audio.ts';

const KEYS: readonly Digit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/** The key of RFC 4733 event code `event`, or null for an event that is no key. */
export function eventDigit(event: number): Digit | null {
  return KEYS[event] ?? null;
}

/**
 * Writes one telephone-event payload (4 bytes) at `out[offset]`: `event`, end bit, volume (0-63, -dBm0),
 * duration in timestamp units. Returns the bytes written.
 */
export function writeTelephoneEvent(out: Uint8Array, offset: number, event: number, end: boolean, volume: number, duration: number): number {
  out[offset] = event & 0xff;
  out[offset + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  out[offset + 2] = (duration >> 8) & 0xff;
  out[offset + 3] = duration & 0xff;
  return 4;
}

export class DtmfReceiver {
  /** The key of the event under way (its timestamp in `current`), not yet given. */
  private pending: Digit | null = null;
  private current = -1;
  /** Timestamp of the last event already given (its later end packets are retransmissions). */
  private done = -1;
  private readonly onDigit: (digit: Digit) => void;
  readonly counters = { digits: 0, malformed: 0, ignored: 0 };

  constructor(onDigit: (digit: Digit) => void) {
    this.onDigit = onDigit;
  }

  /** One telephone-event packet: its payload and RTP timestamp. */
  push(payload: Uint8Array, timestamp: number): void {
    if (payload.length < 4) {
      this.counters.malformed++;
      return;
    }
    if (timestamp === this.done) return; // a retransmitted end, or an update after it
    const end = (payload[1]! & 0x80) !== 0;
    if (timestamp !== this.current) {
      // a new event: the previous one, if its end never came, still counts
      this.give(this.pending);
      this.current = timestamp;
      this.pending = eventDigit(payload[0]!);
      if (this.pending === null) this.counters.ignored++;
    }
    if (end) {
      this.done = timestamp;
      const ended = this.pending;
      this.pending = null;
      this.give(ended);
    }
  }

  /** The stream restarted (new SSRC): forgets the event under way. */
  reset(): void {
    this.pending = null;
    this.current = -1;
    this.done = -1;
  }

  private give(digit: Digit | null): void {
    if (digit === null) return;
    this.counters.digits++;
    this.onDigit(digit);
  }
}
