// Entry of one of the SIP gateway's media threads (media-threads.ts). Uplinks: keeps the callers' uplinks placed on
// it (voice-uplink.ts: Opus, RTP, SRTP) by id and sends each batch of frames the gateway's thread gives it (one per
// 20 ms tick: every call's frame of that tick) to the bridge from one UDP socket (each bridge leg learns its own
// sender's address, so one socket serves them all); with the native module (native/udp-batch.c) a batch's packets
// leave in one sendmmsg(2) call after the batch is encoded, else one dgram send each. Rooms: each room's mix placed
// on it (mix-place.ts: its socket, its speakers decoded, a mix per caller) on this thread's 20 ms frame clock; the
// frames of one tick of all its rooms go back to the gateway's thread in one message (a transferred buffer).
// Messages arrive in order: an uplink or a room is made before its first use, and closed after its last.
import dgram from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { nativeUdp, SendBatch } from '../../bridge/native/udp-batch.ts';
import { literalLookup } from '../../net/udp.ts';
import { sharedFrameClock } from './frame-clock.ts';
import { packFrames } from './frame-pack.ts';
import { LocalMixPlace } from './mix-place.ts';
import type { FromMediaWorker, ToMediaWorker } from './media-threads.ts';
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

/** Rooms by id: opening (null until bound) or open. */
const rooms = new Map<number, LocalMixPlace | null>();

/** The frames of this tick for the gateway's thread, sent in one message at the end of the clock's callback. */
const heard = { frames: [] as Int16Array[], rooms: [] as number[], listeners: [] as number[], queued: false };

function emitFor(room: number) {
  return (listener: number, frame: Int16Array): void => {
    heard.frames.push(frame.slice()); // the mixer's frame is reused next tick
    heard.rooms.push(room);
    heard.listeners.push(listener);
    if (!heard.queued) {
      heard.queued = true;
      queueMicrotask(sendHeard);
    }
  };
}

function sendHeard(): void {
  heard.queued = false;
  const frames = heard.frames;
  if (frames.length === 0) return;
  const { pcm, offsets, counts } = packFrames(frames);
  const roomIds = Int32Array.from(heard.rooms);
  const listenerIds = Int32Array.from(heard.listeners);
  heard.frames = [];
  heard.rooms = [];
  heard.listeners = [];
  const m: FromMediaWorker = { type: 'heard', pcm: pcm.buffer, rooms: roomIds, listeners: listenerIds, offsets, counts };
  port!.postMessage(m, [pcm.buffer, roomIds.buffer, listenerIds.buffer, offsets.buffer, counts.buffer]);
}

function openRoom(room: number, address: string): void {
  rooms.set(room, null);
  LocalMixPlace.open(address, sharedFrameClock, emitFor(room)).then(
    (place) => {
      if (!rooms.has(room)) return place.close(); // closed while opening
      rooms.set(room, place);
      port!.postMessage({ type: 'room-port', room, port: place.port } satisfies FromMediaWorker);
    },
    (e: unknown) => {
      rooms.delete(room);
      port!.postMessage({ type: 'room-failed', room, message: (e as Error).message } satisfies FromMediaWorker);
    },
  );
}

port.on('message', (m: ToMediaWorker) => {
  if (m.type === 'room-open') openRoom(m.room, m.address);
  else if (m.type === 'room-key') rooms.get(m.room)?.setKey(m.key);
  else if (m.type === 'room-sources') rooms.get(m.room)?.setSources(m.sources);
  else if (m.type === 'room-listen') rooms.get(m.room)?.listen(m.listener, m.participantId, m.rate);
  else if (m.type === 'room-rate') rooms.get(m.room)?.setRate(m.listener, m.rate);
  else if (m.type === 'room-unlisten') rooms.get(m.room)?.unlisten(m.listener);
  else if (m.type === 'room-close') {
    rooms.get(m.room)?.close();
    rooms.delete(m.room);
  } else if (m.type === 'create') {
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
