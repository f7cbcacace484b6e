// How many phone calls the gateway has in meetings, by direction (dialled in, or called out for "Invite by
// phone"), and how many it has had since it started: what /metrics shows of the sip part.

export type CallDirection = 'in' | 'out';

export class SipCallStats {
  private readonly active: Record<CallDirection, number> = { in: 0, out: 0 };
  private readonly total: Record<CallDirection, number> = { in: 0, out: 0 };

  /** A call reached its meeting. */
  started(direction: CallDirection): void {
    this.active[direction]++;
    this.total[direction]++;
  }

  /** A call that had started ended (either side hung up, removed, the gateway closing). */
  ended(direction: CallDirection): void {
    if (this.active[direction] > 0) this.active[direction]--;
  }

  activeCalls(direction: CallDirection): number {
    return this.active[direction];
  }

  totalCalls(direction: CallDirection): number {
    return this.total[direction];
  }
}
