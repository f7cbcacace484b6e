// Opus for the SIP gateway's transcoding (one encoder per call, one decoder per meeting speaker): libopus
// through the native module (native/opus.c, Debian's libopus-dev) when it is built, else libopus compiled to
// WebAssembly (the `opusscript` package). Both take and give 16-bit PCM, one frame (2.5 to 60 ms) at a time;
// `npm run bench -- opus` compares them. A WebAssembly decoder cannot conceal a lost packet (no PLC in its API):
// it gives silence for the frame instead.
import { createRequire } from 'node:module';

export interface OpusEncoder {
  /** Encodes one frame of samples (interleaved when stereo) into `out`; returns the packet's length. */
  encode(pcm: Int16Array, out: Uint8Array): number;
  close(): void;
}

export interface OpusDecoder {
  /**
   * Decodes one packet into `pcm` (room for the longest frame: 120 ms); returns samples per channel. `null`:
   * a lost packet, concealed (native) or silence of `lostSamples` (WebAssembly).
   */
  decode(packet: Uint8Array | null, pcm: Int16Array, lostSamples?: number): number;
  close(): void;
}

export type OpusImplementation = 'native' | 'wasm';

interface NativeOpus {
  encoderCreate(sampleRate: number, channels: number, bitrate: number, maxBandwidth?: number, complexity?: number): object;
  encode(handle: object, pcm: Int16Array, out: Uint8Array): number;
  decoderCreate(sampleRate: number, channels: number): object;
  decode(handle: object, packet: Uint8Array | null, pcm: Int16Array): number;
}

interface OpusScriptInstance {
  encode(buffer: Buffer, frameSize: number): Buffer;
  decode(buffer: Buffer): Buffer;
  setBitrate(bitrate: number): void;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
type OpusScriptClass = new (rate: number, channels: number, application: number, options?: { wasm?: boolean }) => OpusScriptInstance;

const require = createRequire(import.meta.url);
let native: NativeOpus | null | undefined;

/** The native module, or null when it is not built here. */
export function nativeOpus(): NativeOpus | null {
  if (native === undefined) {
    try {
      native = require('../../../native/build/opus.node') as NativeOpus;
    } catch {
      native = null;
    }
  }
  return native;
}

const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_MAX_BANDWIDTH = 4004;
/** OPUS_BANDWIDTH_* of libopus. */
const BANDWIDTH = { narrowband: 1101, wideband: 1103, fullband: 1105 } as const;
/**
 * The widest band an encoder codes. A phone's voice holds nothing above 4 kHz: 'wideband' (8 kHz) codes it with
 * SILK alone, which costs a fraction of full band's hybrid coding (`npm run bench -- opus`).
 */
export type OpusMaxBandwidth = keyof typeof BANDWIDTH;

/** Which implementation `createOpusEncoder/Decoder` use by default: native when built. */
export function defaultOpusImplementation(): OpusImplementation {
  return nativeOpus() !== null ? 'native' : 'wasm';
}

/** libopus's default trade of CPU for quality (0-10) in our encoders unless one asks for another. */
export const DEFAULT_COMPLEXITY = 5;

export function createOpusEncoder(sampleRate: number, channels: number, bitrate: number, impl = defaultOpusImplementation(), maxBandwidth: OpusMaxBandwidth = 'fullband', complexity = DEFAULT_COMPLEXITY): OpusEncoder {
  if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new RangeError(`Opus complexity ${complexity}: 0-10`);
  const mod = impl === 'native' ? nativeOpus() : null;
  if (impl === 'native') {
    if (mod === null) throw new Error('the native Opus module is not built (scripts/build-native.sh, libopus-dev)');
    // a module built before complexity existed takes 4 arguments and codes at 5
    const handle = mod.encoderCreate(sampleRate, channels, bitrate, BANDWIDTH[maxBandwidth], complexity);
    return { encode: (pcm, out) => mod.encode(handle, pcm, out), close() {} };
  }
  const OpusScript = require('opusscript') as OpusScriptClass;
  const enc = new OpusScript(sampleRate as 48000, channels, OPUS_APPLICATION_VOIP, { wasm: true });
  enc.setBitrate(bitrate);
  enc.encoderCTL(OPUS_SET_COMPLEXITY, complexity);
  enc.encoderCTL(OPUS_SET_MAX_BANDWIDTH, BANDWIDTH[maxBandwidth]);
  let closed = false;
  return {
    encode(pcm, out) {
      const packet = enc.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), pcm.length / channels);
      if (packet.length > out.length) throw new Error('encode: the output is too small');
      out.set(packet);
      return packet.length;
    },
    close() {
      if (!closed) enc.delete();
      closed = true;
    },
  };
}

export function createOpusDecoder(sampleRate: number, channels: number, impl = defaultOpusImplementation()): OpusDecoder {
  const mod = impl === 'native' ? nativeOpus() : null;
  if (impl === 'native') {
    if (mod === null) throw new Error('the native Opus module is not built (scripts/build-native.sh, libopus-dev)');
    const handle = mod.decoderCreate(sampleRate, channels);
    return {
      // a lost packet is concealed for exactly the frame that was lost
      decode: (packet, pcm, lostSamples = sampleRate / 50) => mod.decode(handle, packet, packet === null ? pcm.subarray(0, Math.min(pcm.length, lostSamples * channels)) : pcm),
      close() {},
    };
  }
  const OpusScript = require('opusscript') as OpusScriptClass;
  const dec = new OpusScript(sampleRate as 48000, channels, OPUS_APPLICATION_VOIP, { wasm: true });
  let closed = false;
  return {
    decode(packet, pcm, lostSamples = sampleRate / 50) {
      if (packet === null) {
        const n = Math.min(lostSamples, pcm.length / channels);
        pcm.fill(0, 0, n * channels);
        return n;
      }
      const out = dec.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
      const samples = out.length / 2;
      if (samples > pcm.length) throw new Error('decode: the output is too small');
      for (let i = 0; i < samples; i++) pcm[i] = out.readInt16LE(i * 2);
      return samples / channels;
    },
    close() {
      if (!closed) dec.delete();
      closed = true;
    },
  };
}
