// Frames of PCM crossing between the SIP gateway's main thread and its media threads: packed into one buffer (one
// transfer, no copy on the way) with where each frame starts and how long it is.

export interface PackedFrames {
  pcm: Int16Array<ArrayBuffer>;
  offsets: Int32Array<ArrayBuffer>;
  counts: Int32Array<ArrayBuffer>;
}

/** `frames` one after another in one new buffer; frame i is pcm[offsets[i] .. offsets[i] + counts[i]). */
export function packFrames(frames: readonly Int16Array[]): PackedFrames {
  let total = 0;
  for (const f of frames) total += f.length;
  const pcm = new Int16Array(total);
  const offsets = new Int32Array(frames.length);
  const counts = new Int32Array(frames.length);
  let at = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    pcm.set(f, at);
    offsets[i] = at;
    counts[i] = f.length;
    at += f.length;
  }
  return { pcm, offsets, counts };
}
