// Entry of one Opus encoding thread of the SIP gateway (opus-encode-pool.ts): keeps the encoders placed on it by
// id, and encodes each batch of frames the gateway's thread sends (one per 20 ms tick: every call's frame of that
// tick), answering with the packets in one buffer. Messages arrive in order, so an encoder is made before its
// first frame and freed after its last.
import { parentPort } from 'node:worker_threads';
import { createOpusEncoder, type OpusEncoder } from './opus-codec.ts';
import type { FromEncodeWorker, ToEncodeWorker } from './opus-encode-pool.ts';

/** The longest packet an encoder may write: 160 kbit/s for 20 ms, five times what a caller's voice is coded at (libopus fits a frame to it). */
const MAX_PACKET = 400;

const port = parentPort;
if (!port) throw new Error('opus-encode-worker.ts runs as a worker thread');
const encoders = new Map<number, OpusEncoder>();

port.on('message', (m: ToEncodeWorker) => {
  if (m.type === 'create') {
    try {
      encoders.set(m.id, createOpusEncoder(m.spec.rate, 1, m.spec.bitrate, m.spec.impl, m.spec.band, m.spec.complexity));
    } catch {
      // its frames will come back unencoded (length -1)
    }
  } else if (m.type === 'close') {
    encoders.get(m.id)?.close();
    encoders.delete(m.id);
  } else {
    const { batch, ids, offsets, counts } = m;
    const pcm = new Int16Array(m.pcm);
    const n = ids.length;
    const packets = new Uint8Array(n * MAX_PACKET);
    const lengths = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const enc = encoders.get(ids[i]!);
      try {
        lengths[i] = enc ? enc.encode(pcm.subarray(offsets[i]!, offsets[i]! + counts[i]!), packets.subarray(i * MAX_PACKET, (i + 1) * MAX_PACKET)) : -1;
      } catch {
        lengths[i] = -1;
      }
    }
    const reply: FromEncodeWorker = { batch, packets: packets.buffer, lengths, stride: MAX_PACKET };
    port.postMessage(reply, [packets.buffer, lengths.buffer]);
  }
});
