// What one participant may cost everyone else: how often its changes make focus renegotiate (a token bucket per
// participant; what exceeds it waits for the next token, merged with whatever else is waiting, and is never
// dropped), and how many m-lines a session may hold (a backstop: recycling keeps sessions small anyway).
import type { Config } from '../config/config.ts';
import { MAX_E2EE_PARTICIPANTS } from '../protocol/e2ee-messages.ts';

export interface ConferenceLimits {
  /** Most m-lines in one participant's session, its own three (audio, camera, screen) included. */
  maxMlines: number;
  /** Renegotiations one participant may cause at once (its renegotiate requests, its sources changing). */
  renegotiationBurst: number;
  /** ...and per second after that. */
  renegotiationRate: number;
  /** Browsers joining a room of at least this many receive on fixed slots (0: never; see slots.ts). */
  receiveSlotsFrom: number;
  receiveAudioSlots: number;
  receiveVideoSlots: number;
}

export const DEFAULT_LIMITS: ConferenceLimits = {
  maxMlines: 256,
  renegotiationBurst: 6,
  renegotiationRate: 2,
  receiveSlotsFrom: MAX_E2EE_PARTICIPANTS + 1,
  receiveAudioSlots: 3,
  receiveVideoSlots: 9,
};

/** The limits a focus applies, from its configuration. */
export function limitsFromConfig(
  config: Pick<Config, 'maxSessionMlines' | 'renegotiationBurst' | 'renegotiationRate' | 'receiveSlotsFrom' | 'receiveAudioSlots' | 'receiveVideoSlots'>,
): ConferenceLimits {
  return {
    maxMlines: config.maxSessionMlines,
    renegotiationBurst: config.renegotiationBurst,
    renegotiationRate: config.renegotiationRate,
    receiveSlotsFrom: config.receiveSlotsFrom,
    receiveAudioSlots: config.receiveAudioSlots,
    receiveVideoSlots: config.receiveVideoSlots,
  };
}

/** A token bucket: `burst` tokens at once, refilled at `perSecond`; says when the next token comes. */
export class ChangeBucket {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly perSecond: number;

  constructor(burst: number, perSecond: number, now = Date.now()) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }

  /** Takes one token; false when none is left. */
  take(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until `take` would succeed (0 when it would now). */
  msUntilToken(now = Date.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
