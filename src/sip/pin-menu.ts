// The voice menu of a call that named no room: "Please enter the meeting PIN followed by the hash key". It plays
// its prompts through the call's phone audio (paced by PromptPlayer), collects keys until '#', and asks `lookup`
// (signal.pin-lookup over the bus, src/sip/pin-lookup.ts) for the room. No I/O of its own: the caller gives the
// phone, the prompts (prompts.ts) and the lookup, and acts on the result (join the room, or hang up).
//
//   prompt ──key──> typing ──'#' (or a pause after some keys)──> lookup ──room──> "welcome" -> joined
//     │ (a key during a prompt stops it)  '*' starts over            │ none: attempts left -> "try again" -> typing
//     └─ no key for digitTimeoutMs: prompt again; silentPrompts times -> "goodbye" -> hang up
//                                                                     └ none, last attempt -> "not valid, goodbye" -> hang up
import type { Digit, PhoneAudio } from './call-audio.ts';
import { PromptPlayer } from './prompt-player.ts';
import type { PromptName } from './prompt-texts.ts';
import type { PromptSet } from './prompts.ts';

/** Keys kept of one entry: a PIN is 9 digits; longer entries are wrong anyway and only cost memory. */
const MAX_TYPED = 32;

export interface PinMenuOptions {
  /** The call's phone side: its `onDigit` is the menu's while it runs (restored after). */
  phone: Pick<PhoneAudio, 'play' | 'onDigit'>;
  prompts: PromptSet;
  /** The room of a PIN, or undefined when no room has it. A throw (signal unreachable) ends the menu. */
  lookup: (pin: string) => Promise<string | undefined>;
  /** Wrong PINs before hanging up (default 3). */
  attempts?: number;
  /** How long to wait for a key after a prompt, and between keys (default 10 s). */
  digitTimeoutMs?: number;
  /** Prompts answered by no key at all before hanging up (default 2: the prompt and one repeat). */
  silentPrompts?: number;
  /** Aborted when the call ends (the caller hung up): the menu stops at once. */
  signal?: AbortSignal;
}

export type PinMenuResult =
  | { outcome: 'joined'; room: string }
  | { outcome: 'hang-up'; reason: 'wrong-pin' | 'no-input' | 'lookup-failed' | 'cancelled' };

/** Keys as they come; `next` waits for one, a timeout, or the end of the call. */
class Keys {
  private readonly queue: Digit[] = [];
  private waiter: ((k: Digit | 'timeout' | 'cancelled') => void) | undefined;
  private cancelled = false;
  /** Called for each key pressed (the menu stops a prompt with it). */
  onKey: (() => void) | undefined;

  push(d: Digit): void {
    this.onKey?.();
    if (this.waiter) this.waiter(d);
    else if (this.queue.length < MAX_TYPED) this.queue.push(d);
  }

  clear(): void {
    this.queue.length = 0;
  }

  cancel(): void {
    this.cancelled = true;
    this.waiter?.('cancelled');
  }

  next(timeoutMs: number): Promise<Digit | 'timeout' | 'cancelled'> {
    if (this.cancelled) return Promise.resolve('cancelled');
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      const done = (k: Digit | 'timeout' | 'cancelled') => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(k);
      };
      this.waiter = done;
    });
  }
}

export async function runPinMenu(opts: PinMenuOptions): Promise<PinMenuResult> {
  const attempts = opts.attempts ?? 3;
  const digitTimeoutMs = opts.digitTimeoutMs ?? 10_000;
  const silentPrompts = opts.silentPrompts ?? 2;
  const { phone, prompts, signal } = opts;
  const player = new PromptPlayer(phone);
  const keys = new Keys();
  const cancelled = () => signal?.aborted === true;
  const onAbort = () => {
    player.stop();
    keys.cancel();
  };
  const previousOnDigit = phone.onDigit;
  phone.onDigit = (d) => keys.push(d);
  signal?.addEventListener('abort', onAbort, { once: true });

  /** Plays a prompt; a key pressed meanwhile stops it when `interruptible` (and is kept as typed). */
  const say = async (name: PromptName, interruptible: boolean): Promise<void> => {
    keys.clear();
    keys.onKey = interruptible ? () => player.stop() : undefined;
    await player.play(prompts[name]);
    keys.onKey = undefined;
    if (!interruptible) keys.clear();
  };
  const hangUp = async (name: PromptName | undefined, reason: 'wrong-pin' | 'no-input' | 'lookup-failed'): Promise<PinMenuResult> => {
    if (name && !cancelled()) await say(name, false);
    return cancelled() ? { outcome: 'hang-up', reason: 'cancelled' } : { outcome: 'hang-up', reason };
  };

  try {
    if (cancelled()) return { outcome: 'hang-up', reason: 'cancelled' };
    let wrong = 0;
    let silent = 0;
    let prompt: PromptName = 'enter-pin';
    for (;;) {
      await say(prompt, true);
      // typing: keys until '#', or a pause after at least one
      let typed = '';
      let entered = false;
      while (!entered) {
        const k = await keys.next(digitTimeoutMs);
        if (k === 'cancelled' || cancelled()) return { outcome: 'hang-up', reason: 'cancelled' };
        if (k === 'timeout') {
          if (typed === '') break;
          entered = true;
        } else if (k === '#') entered = true;
        else if (k === '*') typed = '';
        else if (/\d/.test(k) && typed.length < MAX_TYPED) typed += k;
      }
      if (!entered) {
        if (++silent >= silentPrompts) return await hangUp('goodbye', 'no-input');
        prompt = 'enter-pin';
        continue;
      }
      silent = 0;
      let room: string | undefined;
      try {
        room = typed === '' ? undefined : await opts.lookup(typed);
      } catch {
        return await hangUp('goodbye', 'lookup-failed');
      }
      if (cancelled()) return { outcome: 'hang-up', reason: 'cancelled' };
      if (room !== undefined) {
        await say('welcome', false);
        return cancelled() ? { outcome: 'hang-up', reason: 'cancelled' } : { outcome: 'joined', room };
      }
      if (++wrong >= attempts) return await hangUp('pin-refused', 'wrong-pin');
      prompt = 'pin-retry';
    }
  } finally {
    player.stop();
    signal?.removeEventListener('abort', onAbort);
    phone.onDigit = previousOnDigit;
  }
}
