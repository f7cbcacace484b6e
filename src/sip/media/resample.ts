// Between the phone's 8 kHz and Opus's 48 kHz: an integer factor (6) each way, with one windowed-sinc
// low-pass filter (cut-off at 3.6 kHz, below the phone band's 4 kHz Nyquist, Blackman window, 48 taps, 8 per
// phase): up, each 8 kHz sample becomes 6 (polyphase: no multiplications by the zeros); down, one output per 6
// inputs, filtered first so nothing above 4 kHz folds back into the phone's band. Each keeps its history
// between frames, so consecutive 20 ms frames join without a click. One per direction per call.

export const FACTOR = 6;
const TAPS_PER_PHASE = 8;
const TAPS = FACTOR * TAPS_PER_PHASE;

function lowPass(): Float32Array {
  const h = new Float32Array(TAPS);
  const cutoff = 3600 / 48_000; // cycles per sample at 48 kHz
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    h[i] = sinc * w;
    sum += h[i]!;
  }
  for (let i = 0; i < TAPS; i++) h[i]! /= sum;
  return h;
}
const FILTER = lowPass();

function clamp(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/**
 * The filter's work buffer: the last `keep` inputs of the previous frame, then this frame's, as floats (grown
 * when a longer frame comes). After a frame, `slide` keeps its last `keep` inputs for the next.
 */
class History {
  private work: Float32Array;
  private readonly keep: number;

  constructor(keep: number, frame: number) {
    this.keep = keep;
    this.work = new Float32Array(keep + frame);
  }

  /** Appends the frame after the kept inputs; returns the buffer (input i is at keep + i). */
  load(input: Int16Array): Float32Array {
    if (this.work.length < this.keep + input.length) {
      const bigger = new Float32Array(this.keep + input.length);
      bigger.set(this.work.subarray(0, this.keep));
      this.work = bigger;
    }
    const w = this.work;
    for (let i = 0; i < input.length; i++) w[this.keep + i] = input[i]!;
    return w;
  }

  slide(frameLength: number): void {
    this.work.copyWithin(0, frameLength, frameLength + this.keep);
  }
}

/** 8 kHz -> 48 kHz. */
export class Upsampler {
  /** The filter reads across the join of two frames. */
  private readonly history = new History(TAPS_PER_PHASE - 1, 160);

  /** Writes input.length * 6 samples to out; returns that count. */
  process(input: Int16Array, out: Int16Array): number {
    const keep = TAPS_PER_PHASE - 1;
    const w = this.history.load(input);
    let o = 0;
    for (let i = 0; i < input.length; i++) {
      const newest = keep + i;
      // output 6i + phase: taps phase, phase + 6, ... against inputs i, i - 1, ... (the zeros between them skipped)
      for (let phase = 0; phase < FACTOR; phase++) {
        let acc = 0;
        for (let k = 0; k < TAPS_PER_PHASE; k++) acc += w[newest - k]! * FILTER[phase + k * FACTOR]!;
        out[o++] = clamp(acc * FACTOR);
      }
    }
    this.history.slide(input.length);
    return o;
  }
}

/** 48 kHz -> 8 kHz; frames whose length is a multiple of 6 (20 ms is 960). */
export class Downsampler {
  private readonly history = new History(TAPS - 1, 960);

  /** Writes input.length / 6 samples to out; returns that count. */
  process(input: Int16Array, out: Int16Array): number {
    if (input.length % FACTOR !== 0) throw new RangeError(`a 48 kHz frame of ${input.length} samples is not a multiple of ${FACTOR}`);
    const keep = TAPS - 1;
    const w = this.history.load(input);
    let o = 0;
    for (let end = keep + FACTOR - 1; end < keep + input.length; end += FACTOR) {
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += w[end - k]! * FILTER[k]!;
      out[o++] = clamp(acc);
    }
    this.history.slide(input.length);
    return o;
  }
}
