// Browsers' endpoints that never connected, or lost their connection, for LOST_ENDPOINT_EXPIRY_MS: the bridge
// expires them itself. Focus expires an endpoint when its participant leaves; when it could not (it restarted
// without JetStream and forgot the meeting, or NATS was down when the meeting ended) the endpoint stayed for good,
// counted against maxEndpointsPerBridge and in the bridge's announced load. A participant whose page still runs
// has left long before (signal's participantTimeout, seconds), or joins again (a new allocation).
// Only endpoints allocated for browsers are watched: plain-RTP ones (recordings, phones, relays) have no
// connection to lose.

/** How long a browser's endpoint may go without a connection before the bridge expires it. */
export const LOST_ENDPOINT_EXPIRY_MS = 5 * 60_000;

const key = (conferenceId: string, endpointId: string) => `${conferenceId}\u0000${endpointId}`;

export class LostEndpoints {
  /** Since when each watched endpoint has had no connection. */
  private readonly since = new Map<string, { conferenceId: string; endpointId: string; at: number }>();
  /** The browsers' endpoints (allocated by focus for a browser), connected or not. */
  private readonly browsers = new Set<string>();
  private readonly expiryMs: number;

  constructor(expiryMs = LOST_ENDPOINT_EXPIRY_MS) {
    this.expiryMs = expiryMs;
  }

  /** A new endpoint for a browser: it has no connection yet. */
  allocated(conferenceId: string, endpointId: string, now = Date.now()): void {
    this.browsers.add(key(conferenceId, endpointId));
    this.since.set(key(conferenceId, endpointId), { conferenceId, endpointId, at: now });
  }

  connected(conferenceId: string, endpointId: string): void {
    this.since.delete(key(conferenceId, endpointId));
  }

  /** Its connection was lost (consent expired, a DTLS failure); watched when it is a browser's. */
  disconnected(conferenceId: string, endpointId: string, now = Date.now()): void {
    const k = key(conferenceId, endpointId);
    if (this.browsers.has(k) && !this.since.has(k)) this.since.set(k, { conferenceId, endpointId, at: now });
  }

  /** Expired (by focus, or here): no longer watched. */
  gone(conferenceId: string, endpointId: string): void {
    this.since.delete(key(conferenceId, endpointId));
    this.browsers.delete(key(conferenceId, endpointId));
  }

  /** The endpoints without a connection for the expiry time, taken off the watch. */
  due(now = Date.now()): Array<{ conferenceId: string; endpointId: string }> {
    const out: Array<{ conferenceId: string; endpointId: string }> = [];
    for (const [k, e] of this.since) {
      if (now - e.at < this.expiryMs) continue;
      this.since.delete(k);
      this.browsers.delete(k);
      out.push({ conferenceId: e.conferenceId, endpointId: e.endpointId });
    }
    return out;
  }

  get size(): number {
    return this.since.size;
  }
}
