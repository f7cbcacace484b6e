// `receiver-video-constraints` from a browser (the size of each remote video tile, and its video-quality cap) go to focus as
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

/** One `receiver-video-constraints`: the tiles, and the receiver's cap (its video-quality setting). */
interface ReceiverConstraints {
  tiles: TileSize[];
  maxHeight: number | undefined;
}

interface ForwardState {
  /** The set waiting to go out (replaced by newer ones), or null. */
  latest: ReceiverConstraints | null;
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

  receive(member: Member, tiles: TileSize[], maxHeight?: number): void {
    let s = this.state.get(member);
    if (!s) this.state.set(member, (s = { latest: null, scheduled: false, lastSentAt: -Infinity }));
    if (s.scheduled) {
      if (s.latest !== null) this.dropped++;
      s.latest = { tiles, maxHeight };
      return;
    }
    s.latest = { tiles, maxHeight };
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
    const latest = s.latest;
    s.latest = null;
    s.scheduled = false;
    if (latest === null || member.room.members.get(member.id) !== member) return; // left meanwhile
    const { tiles, maxHeight } = latest;
    s.lastSentAt = Date.now();
    try {
      await callBus(this.bus, busCalls.focusConstraints, '', { conferenceId: member.room.key, participantId: member.id, tiles, ...(maxHeight !== undefined ? { maxHeight } : {}) }, FOCUS_TIMEOUT_MS);
    } catch (e) {
      this.log.warn({ room: member.room.key, participant: member.id, err: (e as Error).message }, 'focus constraints failed');
    }
  }
}
