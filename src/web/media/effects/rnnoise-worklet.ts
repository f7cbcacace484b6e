// The microphone's noise suppression, inside the audio rendering thread: an AudioWorkletProcessor running
// RNNoise (Jitsi's WebAssembly build, @jitsi/rnnoise-wasm, the synchronous variant with the module inlined, as a
// worklet cannot fetch). RNNoise takes 480-sample frames (10 ms at 48 kHz) and the worklet gets 128-sample
// blocks, so samples queue on both sides; the delay this adds is about 13 ms.
// Built by Vite as a module of its own (`?worker&url` in noise-suppression.ts) and loaded with addModule.
import createRNNWasmModuleSync from '@jitsi/rnnoise-wasm/dist/rnnoise-sync.js';

// the audio worklet's own globals (TypeScript's DOM library has none of them)
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

/** RNNoise's frame: 10 ms at 48 kHz. */
const FRAME = 480;
/** Output starts once this much is queued, so that a frame's arrival in the middle of a block never leaves a gap. */
const PRIME = FRAME + 128;
const RING = 4096;
/** RNNoise works on 16-bit sample values held in floats. */
const SCALE = 32768;

interface RnnoiseModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model?: number): number;
  _rnnoise_destroy(state: number): void;
  _rnnoise_process_frame(state: number, out: number, input: number): number;
  HEAPF32: Float32Array;
}

class RnnoiseProcessor extends AudioWorkletProcessor {
  private readonly rnn: RnnoiseModule = createRNNWasmModuleSync() as RnnoiseModule;
  private readonly state = this.rnn._rnnoise_create();
  private readonly inPtr = this.rnn._malloc(FRAME * 4);
  private readonly outPtr = this.rnn._malloc(FRAME * 4);
  private readonly frame = new Float32Array(FRAME);
  private filled = 0;
  private readonly out = new Float32Array(RING);
  private readHead = 0;
  private queued = 0;
  private started = false;
  private closed = false;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent) => {
      if (e.data === 'close' && !this.closed) {
        this.closed = true;
        this.rnn._rnnoise_destroy(this.state);
        this.rnn._free(this.inPtr);
        this.rnn._free(this.outPtr);
      }
    };
  }

  private denoise(): void {
    const heap = this.rnn.HEAPF32;
    const inAt = this.inPtr >> 2;
    for (let i = 0; i < FRAME; i++) heap[inAt + i] = this.frame[i]! * SCALE;
    this.rnn._rnnoise_process_frame(this.state, this.outPtr, this.inPtr);
    const outAt = this.outPtr >> 2;
    let w = (this.readHead + this.queued) % RING;
    for (let i = 0; i < FRAME; i++) {
      this.out[w] = heap[outAt + i]! / SCALE;
      w = (w + 1) % RING;
    }
    this.queued = Math.min(RING, this.queued + FRAME);
  }

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    const input = inputs[0]?.[0];
    const output = outputs[0]?.[0];
    if (input) {
      for (let i = 0; i < input.length; i++) {
        this.frame[this.filled++] = input[i]!;
        if (this.filled === FRAME) {
          this.denoise();
          this.filled = 0;
        }
      }
    }
    if (!output) return true;
    if (!this.started && this.queued >= PRIME) this.started = true;
    if (!this.started) return true; // silence while priming
    const n = Math.min(output.length, this.queued);
    for (let i = 0; i < n; i++) {
      output[i] = this.out[this.readHead]!;
      this.readHead = (this.readHead + 1) % RING;
    }
    this.queued -= n;
    return true;
  }
}

registerProcessor('tertulia-rnnoise', RnnoiseProcessor);
