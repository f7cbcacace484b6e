// Plays a prompt's frames to the phone at the pace of speech: one 20 ms frame per 20 ms, by the clock (a late
// timer sends the frames that are due at once, at most a few, so the phone's jitter buffer never runs far
// ahead). One prompt at a time: playing another, or `stop`, ends the one playing, whose promise then resolves
// 'interrupted' (the caller started typing, or hung up).
import { FRAME_MS, type PhoneAudio } from './call-audio.ts';
import type { Prompt } from './prompts.ts';

/** Frames sent at once when the timer was late; more than this and the rest of the delay is given up. */
const MAX_CATCH_UP_FRAMES = 5;

export type PlayOutcome = 'done' | 'interrupted';

export class PromptPlayer {
  private readonly phone: Pick<PhoneAudio, 'play'>;
  private current: { timer: NodeJS.Timeout | undefined; finish: (o: PlayOutcome) => void } | undefined;

  constructor(phone: Pick<PhoneAudio, 'play'>) {
    this.phone = phone;
  }

  get playing(): boolean {
    return this.current !== undefined;
  }

  /** Plays `prompt` from its start; resolves 'done' once its last frame has played out, or 'interrupted'. */
  play(prompt: Prompt): Promise<PlayOutcome> {
    this.stop();
    return new Promise<PlayOutcome>((resolve) => {
      let next = 0;
      let start = performance.now();
      const me = {
        timer: undefined as NodeJS.Timeout | undefined,
        finish: (outcome: PlayOutcome) => {
          if (me.timer) clearTimeout(me.timer);
          if (this.current === me) this.current = undefined;
          resolve(outcome);
        },
      };
      this.current = me;
      const tick = () => {
        me.timer = undefined;
        const due = Math.floor((performance.now() - start) / FRAME_MS) + 1;
        if (due - next > MAX_CATCH_UP_FRAMES) {
          // far behind (a stalled event loop): keep the pace from here rather than bursting the backlog
          start += (due - next - MAX_CATCH_UP_FRAMES) * FRAME_MS;
        }
        const until = Math.min(prompt.length, Math.floor((performance.now() - start) / FRAME_MS) + 1);
        while (next < until && this.current === me) this.phone.play(prompt[next++]!);
        if (this.current !== me) return;
        if (next >= prompt.length) {
          // done when the last frame has been heard out (its 20 ms), not when it was sent
          me.timer = setTimeout(() => me.finish('done'), Math.max(0, start + next * FRAME_MS - performance.now()));
          return;
        }
        me.timer = setTimeout(tick, Math.max(1, start + next * FRAME_MS - performance.now()));
      };
      tick();
    });
  }

  /** Ends the prompt playing now (its promise resolves 'interrupted'). */
  stop(): void {
    this.current?.finish('interrupted');
  }
}
