// The publishers' send schedule inside one driver process: a 4 ms tick sends every frame that is due (video at
// VIDEO_FPS, Opus every AUDIO_FRAME_MS), `factor` times faster than real time. It also says whether this
// process kept up: a publisher more than MAX_CATCH_UP frames behind skips ahead (counted in `skips`), and a
// frame sent more than LATE_MS after its time counts as late (`late`, of `frames`). Those figures are how the
// benchmark tells a driver-limited step from a bridge-limited one (bench/driver-limits.ts).
import { performance } from 'node:perf_hooks';
import { AUDIO_FRAME_MS, VIDEO_FPS } from './media.ts';

/** A sender more than this many frames behind its schedule skips ahead (the driver is overloaded). */
export const MAX_CATCH_UP = 3;
/** A frame sent this much after its due time is late: one video frame interval at real time (the next is due). */
export const LATE_MS = 33;
const TICK_MS = 4;

/** What the schedule drives: a publisher's frame senders. */
export interface ScheduledPublisher {
  readonly publishesVideo: boolean;
  readonly publishesAudio: boolean;
  sendVideoFrame(): void;
  sendAudioFrame(payload: Buffer): void;
}

export class SendSchedule {
  private readonly publishers: ScheduledPublisher[];
  private readonly audio: Buffer[];
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;
  private factor = 1;
  private readonly videoSent: number[];
  private readonly audioSent: number[];
  private readonly offsetsMs: number[];
  /** Frames skipped, frames sent late, frames sent, since the last start(). */
  skips = 0;
  late = 0;
  frames = 0;

  /**
   * `ranks`: each publisher's number over the whole run (all driver processes): its frame times are offset by
   * it, so that publishers spread over one frame interval wherever they run.
   */
  constructor(publishers: ScheduledPublisher[], audio: Buffer[], ranks: number[] = publishers.map((_, k) => k)) {
    this.publishers = publishers;
    this.audio = audio;
    this.videoSent = publishers.map(() => 0);
    this.audioSent = publishers.map(() => 0);
    // spread the publishers' frame times over one frame interval
    this.offsetsMs = publishers.map((_, k) => {
      const i = ranks[k] ?? k;
      return ((i * 7) % 33) + (i % 20);
    });
  }

  start(factor: number): void {
    this.stop();
    this.factor = factor;
    this.t0 = performance.now();
    this.videoSent.fill(0);
    this.audioSent.fill(0);
    this.skips = this.late = this.frames = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = performance.now();
    const audio = this.audio;
    const videoMs = 1000 / (VIDEO_FPS * this.factor);
    const audioMs = AUDIO_FRAME_MS / this.factor;
    for (let i = 0; i < this.publishers.length; i++) {
      const p = this.publishers[i]!;
      const elapsed = now - this.t0 - this.offsetsMs[i]!;
      if (elapsed < 0) continue;
      if (p.publishesVideo) {
        const due = Math.floor(elapsed / videoMs) + 1;
        if (due - this.videoSent[i]! > MAX_CATCH_UP) {
          this.skips += due - this.videoSent[i]! - 1;
          this.videoSent[i] = due - 1;
        }
        while (this.videoSent[i]! < due) {
          // frame k (from 0) was due at k × videoMs
          if (elapsed - this.videoSent[i]! * videoMs > LATE_MS) this.late++;
          this.frames++;
          this.videoSent[i]!++;
          p.sendVideoFrame();
        }
      }
      if (p.publishesAudio) {
        const due = Math.floor(elapsed / audioMs) + 1;
        if (due - this.audioSent[i]! > MAX_CATCH_UP) {
          this.skips += due - this.audioSent[i]! - 1;
          this.audioSent[i] = due - 1;
        }
        while (this.audioSent[i]! < due) {
          if (elapsed - this.audioSent[i]! * audioMs > LATE_MS) this.late++;
          this.frames++;
          p.sendAudioFrame(audio[this.audioSent[i]!++ % audio.length]!);
        }
      }
    }
  }
}
