// What a bridge thread tells the rest of the suite on the bus, never awaited: an endpoint connected or
// disconnected (`bridge.event`, to focus), a conference's dominant speaker, and words for one browser that signal
// passes on within its current media session (the layers its camera should send, the cameras its bandwidth
// leaves out, who plays on its receive slots). A bus that refuses a publish costs a warning, never the media path;
// nothing is published once the bridge is closing.
import type { Bus, Json } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { subjects } from '../protocol/bus-messages.ts';
import type { Endpoint } from './endpoint.ts';

export class BridgeAnnouncements {
  /** Set when the bridge closes: nothing more is published. */
  closed = false;
  private readonly bus: Bus;
  private readonly bridgeId: string;
  private readonly log: Logger;

  constructor(bus: Bus, bridgeId: string, log: Logger) {
    this.bus = bus;
    this.bridgeId = bridgeId;
    this.log = log;
  }

  /** `ep` connected (DTLS and SRTP up) or disconnected (expired, consent lost, torn down). */
  endpointEvent(ep: Endpoint, event: 'connected' | 'disconnected'): void {
    this.publish(subjects.bridgeEvent, { bridgeId: this.bridgeId, conferenceId: ep.conference.id, endpointId: ep.id, event }, 'bridge event');
  }

  dominantSpeaker(conferenceId: string, endpointId: string, silent: boolean): void {
    this.publish(subjects.bridgeDominantSpeaker, { bridgeId: this.bridgeId, conferenceId, endpointId, silent }, 'the dominant speaker');
  }

  /** A word for `ep`'s browser, which signal passes on within its current media session (named when focus gave one). */
  toBrowser(subject: string, ep: Endpoint, word: Record<string, Json>, what: string): void {
    this.publish(
      subject,
      {
        bridgeId: this.bridgeId,
        conferenceId: ep.conference.id,
        endpointId: ep.id,
        ...(ep.mediaSession !== undefined ? { session: ep.mediaSession } : {}),
        ...word,
      },
      what,
    );
  }

  private publish(subject: string, payload: Record<string, Json>, what: string): void {
    if (this.closed) return;
    try {
      this.bus.publish(subject, payload);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, `could not publish ${what}`);
    }
  }
}
