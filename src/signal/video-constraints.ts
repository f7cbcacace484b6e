// `receiver-video-constraints` from a browser (the size of each remote video tile) go to focus as
// `focus.constraints`, in order after the participant's earlier focus requests. They may come often (a window
// being resized): at most one request per participant every MIN_INTERVAL_MS; what arrives meanwhile replaces the
// one still waiting (the older is dropped, silently), so focus always ends up with the latest set.
import { callBus } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { TileSize } from '../protocol/signal-messages.ts';
import type { Member } from './rooms.ts';

export const CONSTRAINTS_MIN_INTERVAL_MS = 250;
const FOCUS_TIMEOUT_MS = 10_000;

interface ForwardState {
  /** The set waiting to go out (replaced by newer ones), or null. */
  latest: TileSize[] | null;
  /** A request is scheduled or queued and has not taken `latest` yet. */
  scheduled: boolean;
  lastSentAt: number;
}

export class VideoConstraintsForwarder {
  private readonly state = new WeakMap<Member, ForwardState>();
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly minIntervalMs: number;
  /** Sets replaced by a newer one before they went out (for tests and troubleshooting). */
  dropped = 0;

  constructor(bus: Bus, log: Logger, minIntervalMs = CONSTRAINTS_MIN_INTERVAL_MS) {
    this.bus = bus;
    this.log = log;
    this.minIntervalMs = minIntervalMs;
  }

  receive(member: Member, tiles: TileSize[]): void {
    let s = this.state.get(member);
    if (!s) this.state.set(member, (s = { latest: null, scheduled: false, lastSentAt: -Infinity }));
    if (s.scheduled) {
      if (s.latest !== null) this.dropped++;
      s.latest = tiles;
      return;
    }
    s.latest = tiles;
    s.scheduled = true;
    const state = s;
    const enqueue = () => {
      // after every earlier focus request of this participant (its join in particular)
      member.queue = member.queue.then(() => this.forward(member, state));
    };
    const wait = state.lastSentAt + this.minIntervalMs - Date.now();
    if (wait <= 0) enqueue();
    else setTimeout(enqueue, wait).unref();
  }

  private async forward(member: Member, s: ForwardState): Promise<void> {
    const tiles = s.latest;
    s.latest = null;
    s.scheduled = false;
    if (tiles === null || member.room.members.get(member.id) !== member) return; // left meanwhile
    s.lastSentAt = Date.now();
    try {
      await callBus(this.bus, busCalls.focusConstraints, '', { conferenceId: member.room.key, participantId: member.id, tiles }, FOCUS_TIMEOUT_MS);
    } catch (e) {
      this.log.warn({ room: member.room.key, participant: member.id, err: (e as Error).message }, 'focus constraints failed');
    }
  }
}
