// What the callers in one room hear, the control: one whole-conference audio receiver per room and gateway
// (ConferenceFeed, audio only, SRTP on one UDP port), attached at focus, its key and its list of sources handed to
// where the room is mixed (media/mix-place.ts: on one of the gateway's media threads, chosen by the room, when it
// has them, else in this thread; the mixing itself is media/room-mixer.ts: each speaker's Opus decoded once for
// the room, every 20 ms the loudest MIXED_VOICES voices without the caller's own), and each caller's frame of a tick
// handed to it. A caller's rate (its phone's codec may change) is passed on when it changes. When the meeting's
// bridge goes away the feed follows it to another one (same port, new SRTP key: ConferenceFeed.onMoved); the
// speakers start afresh there (new sequence numbers). A media thread that dies takes its rooms with it: the room
// says so (`onFailed`), its callers hang up.
import { randomBytes } from 'node:crypto';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { ConferenceFeed } from '../plain-rtp/conference-feed.ts';
import type { ReceivedSource } from '../protocol/bus-messages.ts';
import type { AudioRate } from './call-audio.ts';
import { sharedFrameClock, type FrameClock } from './media/frame-clock.ts';
import { LocalMixPlace, type MixPlace } from './media/mix-place.ts';
import type { EmitFrame } from './media/room-mixer.ts';

export { MAX_DECODED_SPEAKERS, MIXED_VOICES } from './media/room-mixer.ts';

/** One caller hearing the room. */
export interface MixListener {
  /** The caller's own participant id: its voice is left out of what it hears. */
  participantId: string;
  /** The rate of the frames it takes (read each tick: a phone's codec may change). */
  readonly rate: AudioRate;
  onFrame: (frame: Int16Array) => void;
}

/** Where rooms can be mixed besides this thread (the gateway's media threads, media-threads.ts). */
export interface MixHost {
  /** A place for the room's mix on the room's thread; null when there is none (then it is mixed here). */
  mixPlace(conferenceId: string, address: string, emit: EmitFrame, onFailed: () => void): Promise<MixPlace> | null;
}

export class RoomMix {
  readonly conferenceId: string;
  private readonly log: Logger;
  private readonly feed: ConferenceFeed;
  private place: MixPlace | null = null;
  /** Each caller by its id at the place, with the rate the place was last told. */
  private readonly listeners = new Map<number, { listener: MixListener; rate: AudioRate }>();
  private readonly ids = new Map<MixListener, number>();
  private nextId = 1;
  private closed = false;
  /** The conference ended: nobody hears anything more. */
  onEnded: () => void = () => {};
  /** The thread mixing the room died: its callers cannot go on. */
  onFailed: () => void = () => {};

  private constructor(bus: Bus, log: Logger, conferenceId: string, gatewayId: string) {
    this.conferenceId = conferenceId;
    this.log = log;
    this.feed = new ConferenceFeed(bus, log, conferenceId, `sip-${gatewayId}-${randomBytes(4).toString('hex')}`);
    this.feed.onSources = (sources) => this.place?.setSources(audioSources(sources));
    this.feed.onEnded = () => this.onEnded();
    this.feed.onMoved = async ({ key }) => {
      this.place?.setKey(key);
    };
  }

  /**
   * Listens on `address` (the bridge sends there; on a media thread of `host` when it has them), attaches at
   * focus and starts. Mixed on `clock` when mixed in this thread.
   */
  static async open(bus: Bus, log: Logger, conferenceId: string, gatewayId: string, address: string, host?: MixHost, clock: FrameClock = sharedFrameClock): Promise<RoomMix> {
    const mix = new RoomMix(bus, log, conferenceId, gatewayId);
    const emit: EmitFrame = (id, frame) => mix.hear(id, frame);
    try {
      // on the room's media thread; here when there is none, or it could not open it (it died meanwhile)
      const onThread = host?.mixPlace(conferenceId, address, emit, () => mix.failed());
      mix.place =
        (onThread &&
          (await onThread.catch((e: unknown) => {
            log.warn({ err: (e as Error).message }, "the room's media thread could not mix it: mixed in the main thread");
            return null;
          }))) ??
        (await LocalMixPlace.open(address, clock, emit, (e) => log.warn({ err: e.message }, 'room mix socket error')));
      const { key } = await mix.feed.attachAudio(address, mix.place.port);
      mix.place.setKey(key);
      mix.place.setSources(audioSources(mix.feed.sources));
      await mix.feed.start();
    } catch (e) {
      await mix.close();
      throw e;
    }
    return mix;
  }

  get size(): number {
    return this.listeners.size;
  }

  add(listener: MixListener): void {
    if (this.closed || this.ids.has(listener)) return;
    const id = this.nextId++;
    this.ids.set(listener, id);
    this.listeners.set(id, { listener, rate: listener.rate });
    this.place?.listen(id, listener.participantId, listener.rate);
  }

  remove(listener: MixListener): void {
    const id = this.ids.get(listener);
    if (id === undefined) return;
    this.ids.delete(listener);
    this.listeners.delete(id);
    this.place?.unlisten(id);
  }

  /** A caller's frame of this tick (its rate checked: a change is passed on for the next ticks). */
  private hear(id: number, frame: Int16Array): void {
    const entry = this.listeners.get(id);
    if (!entry) return;
    const rate = entry.listener.rate;
    if (rate !== entry.rate) {
      entry.rate = rate;
      this.place?.setRate(id, rate);
    }
    try {
      entry.listener.onFrame(frame);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'a caller could not take its frame');
    }
  }

  /** The thread mixing the room died (told to `onFailed`, or to whoever sets it later: see `hasFailed`). */
  hasFailed = false;

  private failed(): void {
    if (this.closed || this.hasFailed) return;
    this.hasFailed = true;
    this.log.error({ room: this.conferenceId }, "the thread mixing the room died: its callers' calls end");
    this.onFailed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.ids.clear();
    this.place?.close();
    await this.feed.detach();
  }
}

/** The conference's audio sources as [SSRC, participant id]. */
function audioSources(sources: readonly ReceivedSource[]): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const s of sources) if (s.kind === 'audio') out.push([s.ssrc >>> 0, s.participantId]);
  return out;
}
