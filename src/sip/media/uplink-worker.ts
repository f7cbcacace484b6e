// Entry of one of the SIP gateway's encoding threads (uplink-pool.ts): keeps the callers' uplinks placed on it
// (voice-uplink.ts: Opus, RTP, SRTP) by id and sends each batch of frames the gateway's thread gives it (one per
// 20 ms tick: every call's frame of that tick) to the bridge from one UDP socket (each bridge leg learns its own
// sender's address, so one socket serves them all). Messages arrive in order: an uplink is made before its
// first frame, repointed between two of its frames as the gateway asked, and closed after its last.
// With the native module (native/udp-batch.c) a batch's packets leave in one sendmmsg(2) call after the batch is
// encoded, else one dgram send each.
import dgram from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { nativeUdp, SendBatch } from '../../bridge/native/udp-batch.ts';
import { literalLookup } from '../../net/udp.ts';
import type { ToUplinkWorker } from './uplink-pool.ts';
import { VoiceUplink, type SendDatagram } from './voice-uplink.ts';

const port = parentPort;
if (!port) throw new Error('uplink-worker.ts runs as a worker thread');
const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
// what the bridge sends back (RTCP) is not needed
socket.on('message', () => {});
socket.on('error', () => {});
const batch = openBatch();
const send: SendDatagram = (buf, length, toPort, address) => {
  if (batch !== null) {
    if (batch.add(buf, 0, length, toPort, address)) return;
    batch.flush(); // full: what it holds leaves now
    if (batch.add(buf, 0, length, toPort, address)) return;
  }
  socket.send(buf, 0, length, toPort, address);
};

/** The socket opened by the native module and its batch, or null (dgram binds the socket at its first send). */
function openBatch(): SendBatch | null {
  const mod = nativeUdp();
  if (mod === null) return null;
  try {
    const fd = mod.openUdp4('0.0.0.0', 0, false);
    socket.bind({ fd });
    return new SendBatch(mod, fd);
  } catch {
    return null;
  }
}
const uplinks = new Map<number, VoiceUplink>();

port.on('message', (m: ToUplinkWorker) => {
  if (m.type === 'create') {
    uplinks.set(m.id, new VoiceUplink(m.spec, send));
  } else if (m.type === 'repoint') {
    uplinks.get(m.id)?.repoint(m.to);
  } else if (m.type === 'close') {
    uplinks.get(m.id)?.close();
    uplinks.delete(m.id);
  } else {
    const pcm = new Int16Array(m.pcm);
    for (let i = 0; i < m.ids.length; i++) uplinks.get(m.ids[i]!)?.send(pcm.subarray(m.offsets[i]!, m.offsets[i]! + m.counts[i]!));
    batch?.flush();
  }
});
