// The gateway's media threads: each caller's voice into the meeting (voice-uplink.ts: Opus encoding, the largest
// cost of a call, then RTP, SRTP and the send) and each room's mix (mix-place.ts, room-mixer.ts: the room's audio
// from the bridge, its speakers decoded, a mix per caller) run on threads of their own (media-worker.ts), so the
// gateway's own thread keeps the SIP signalling and the phones' RTP. A room and its callers' voices go to one
// thread, chosen by the room. The frames each call gives during one callback of the event loop (the 20 ms frame
// clock runs every call's tick in one) go to its thread as one batch (a transferred buffer: no copy per frame);
// each thread gives back its rooms' frames for the callers in one message per tick of its own clock. A thread that
// dies is said in the log and its calls and rooms are told (`onFailed`: the calls hang up; their SRTP streams
// cannot be taken over where the thread left them); later calls and rooms run in the gateway's own thread, as
// with no threads at all. The threads start with the first call (a gateway with no calls runs none). An uplink
// can be repointed (the meeting moved to another bridge: its address, port and key).
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.ts';
import type { AudioRate } from '../call-audio.ts';
import type { MixPlace } from './mix-place.ts';
import type { EmitFrame } from './room-mixer.ts';
import { VoiceUplink, type UplinkSpec, type UplinkTarget } from './voice-uplink.ts';
import { packFrames } from './frame-pack.ts';
import { siblingModuleUrl } from '../../sibling-module.ts';

/** A caller's voice into the meeting, wherever it is encoded and sent. */
export interface Uplink {
  /** One frame (160 or 960 samples); the caller must not change it afterwards. */
  send(frame: Int16Array): void;
  /** Sends to another bridge (the meeting moved) from the next frame on. */
  repoint(to: UplinkTarget): void;
  close(): void;
}

export type ToMediaWorker =
  | { type: 'create'; id: number; spec: UplinkSpec }
  | { type: 'repoint'; id: number; to: UplinkTarget }
  | { type: 'close'; id: number }
  | { type: 'batch'; pcm: ArrayBuffer; ids: Int32Array; offsets: Int32Array; counts: Int32Array }
  | { type: 'room-open'; room: number; address: string }
  | { type: 'room-key'; room: number; key: string }
  | { type: 'room-sources'; room: number; sources: Array<[number, string]> }
  | { type: 'room-listen'; room: number; listener: number; participantId: string; rate: AudioRate }
  | { type: 'room-rate'; room: number; listener: number; rate: AudioRate }
  | { type: 'room-unlisten'; room: number; listener: number }
  | { type: 'room-close'; room: number };

export type FromMediaWorker =
  | { type: 'room-port'; room: number; port: number }
  | { type: 'room-failed'; room: number; message: string }
  /** One tick's frames of every room of the thread: frame i is for listener listeners[i] of room rooms[i]. */
  | { type: 'heard'; pcm: ArrayBuffer; rooms: Int32Array; listeners: Int32Array; offsets: Int32Array; counts: Int32Array };

/** A room being opened or open on a thread: where its frames go, and who is told when the thread dies. */
interface ThreadRoom {
  emit: EmitFrame;
  onFailed: () => void;
  opened?: { resolve: (port: number) => void; reject: (e: Error) => void };
}

/** An uplink in this thread, sending from `socket` (its own when none is given; closed with it then). */
export function localUplink(spec: UplinkSpec, socket?: dgram.Socket): Uplink {
  const own = socket ? null : dgram.createSocket('udp4');
  const s = socket ?? own!;
  if (own) {
    own.on('message', () => {}); // the bridge's RTCP is not needed
    own.on('error', () => {});
  }
  const uplink = new VoiceUplink(spec, (buf, length, port, address) => s.send(buf, 0, length, port, address));
  return {
    send: (frame) => uplink.send(frame),
    repoint: (to) => uplink.repoint(to),
    close() {
      uplink.close();
      own?.close();
    },
  };
}

class MediaThread {
  readonly worker: Worker;
  alive = true;
  /** Each uplink's onFailed, by id. */
  readonly failed = new Map<number, () => void>();
  /** The rooms mixed on the thread, by id. */
  readonly rooms = new Map<number, ThreadRoom>();
  private frames: Int16Array[] = [];
  private ids: number[] = [];
  private flushQueued = false;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (m: FromMediaWorker) => this.onMessage(m));
  }

  /** Opens a room's mix on the thread; resolves with its UDP port. */
  openRoom(id: number, address: string, room: ThreadRoom): Promise<number> {
    return new Promise((resolve, reject) => {
      room.opened = { resolve, reject };
      this.rooms.set(id, room);
      this.post({ type: 'room-open', room: id, address });
    });
  }

  closeRoom(id: number): void {
    const room = this.rooms.get(id);
    if (!room) return;
    this.rooms.delete(id);
    room.opened?.reject(new Error('closed'));
    this.post({ type: 'room-close', room: id });
  }

  /** A message about a room (key, sources, listeners). */
  roomMessage(m: ToMediaWorker): void {
    this.post(m);
  }

  private onMessage(m: FromMediaWorker): void {
    if (m.type === 'heard') {
      const pcm = new Int16Array(m.pcm);
      for (let i = 0; i < m.rooms.length; i++) this.rooms.get(m.rooms[i]!)?.emit(m.listeners[i]!, pcm.subarray(m.offsets[i]!, m.offsets[i]! + m.counts[i]!));
      return;
    }
    const room = this.rooms.get(m.room);
    const opened = room?.opened;
    if (!room || !opened) return;
    room.opened = undefined;
    if (m.type === 'room-port') opened.resolve(m.port);
    else {
      this.rooms.delete(m.room);
      opened.reject(new Error(m.message));
    }
  }

  create(id: number, spec: UplinkSpec, onFailed: () => void): void {
    this.failed.set(id, onFailed);
    this.post({ type: 'create', id, spec });
  }

  repoint(id: number, to: UplinkTarget): void {
    this.flush(); // the frames before it go to the old bridge
    this.post({ type: 'repoint', id, to: { srtpKey: to.srtpKey, address: to.address, port: to.port } });
  }

  close(id: number): void {
    this.failed.delete(id);
    this.flush(); // its last frames first
    this.post({ type: 'close', id });
  }

  send(id: number, frame: Int16Array): void {
    this.frames.push(frame);
    this.ids.push(id);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // after every call's frame of this tick (the frame clock runs them in one callback)
      queueMicrotask(() => this.flush());
    }
  }

  /** The worker is gone; its uplinks are told unless the pool is closing. */
  died(tell: boolean): void {
    this.alive = false;
    this.frames = [];
    this.ids = [];
    const failed = [...this.failed.values()];
    this.failed.clear();
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    for (const r of rooms) r.opened?.reject(new Error('the media thread died'));
    if (tell) for (const f of [...failed, ...rooms.filter((r) => !r.opened).map((r) => r.onFailed)]) queueMicrotask(f);
  }

  private flush(): void {
    this.flushQueued = false;
    const frames = this.frames;
    if (frames.length === 0 || !this.alive) return;
    const ids = Int32Array.from(this.ids);
    this.frames = [];
    this.ids = [];
    const { pcm, offsets, counts } = packFrames(frames);
    this.worker.postMessage({ type: 'batch', pcm: pcm.buffer, ids, offsets, counts } satisfies ToMediaWorker, [pcm.buffer, ids.buffer, offsets.buffer, counts.buffer]);
  }

  private post(m: ToMediaWorker): void {
    if (this.alive) this.worker.postMessage(m);
  }
}

export class MediaThreads {
  /** Started with the first uplink. */
  private readonly threads: MediaThread[] = [];
  private readonly count: number;
  private readonly log: Logger;
  /** The socket uplinks in this thread share once a thread died (made then). */
  private fallbackSocket: dgram.Socket | null = null;
  private nextId = 1;
  private nextRoom = 1;
  private closed = false;

  /** Whether rooms are mixed on the threads (`sipMixOnThreads`), or only the voices run there. */
  private readonly mixRooms: boolean;

  /** `count` threads (at least one), started with the first call; `mixRooms`: the rooms' mixes on them too. */
  constructor(count: number, log: Logger, opts: { mixRooms?: boolean } = {}) {
    this.count = Math.max(1, count);
    this.log = log;
    this.mixRooms = opts.mixRooms ?? false;
  }

  /** The threads running now (none before the first call). */
  get threadCount(): number {
    return this.threads.length;
  }

  private startThreads(): void {
    for (let i = 0; i < this.count; i++) {
      const worker = new Worker(siblingModuleUrl('./media-worker', import.meta.url));
      worker.unref();
      const t = new MediaThread(worker);
      this.threads.push(t);
      const died = (why: string) => {
        if (!t.alive) return;
        if (!this.closed) this.log.error({ why }, 'a media thread of the SIP gateway died: its calls are hung up, new ones run in the main thread');
        t.died(!this.closed);
      };
      worker.on('error', (e: Error) => died(e.message));
      worker.on('exit', (code) => died(`exit ${code}`));
    }
    this.log.info({ threads: this.count }, 'the SIP gateway started its media threads (its first call)');
  }

  /** The thread of a room (its mix and its callers' voices), started when none is; null when the pool is closed. */
  private threadFor(conferenceId: string): MediaThread | null {
    if (this.closed) return null;
    if (this.threads.length === 0) this.startThreads();
    let h = 0x811c9dc5; // FNV-1a: the same room, the same thread
    for (let i = 0; i < conferenceId.length; i++) h = Math.imul(h ^ conferenceId.charCodeAt(i), 0x01000193);
    return this.threads[(h >>> 0) % this.threads.length]!;
  }

  /**
   * The room's mix on its thread (listening on `address`), giving each listener's frames to `emit`; null when
   * rooms are not mixed on the threads, its thread died or the pool is closed (then it is mixed in this thread). `onFailed`: the thread died later.
   */
  mixPlace(conferenceId: string, address: string, emit: EmitFrame, onFailed: () => void): Promise<MixPlace> | null {
    if (!this.mixRooms) return null;
    const thread = this.threadFor(conferenceId);
    if (!thread?.alive) return null;
    const room = this.nextRoom++;
    return thread.openRoom(room, address, { emit, onFailed }).then((port): MixPlace => {
      const send = (m: ToMediaWorker) => {
        if (thread.alive && thread.rooms.has(room)) thread.roomMessage(m);
      };
      return {
        port,
        setKey: (key) => send({ type: 'room-key', room, key }),
        setSources: (sources) => send({ type: 'room-sources', room, sources: sources.map(([ssrc, p]) => [ssrc, p]) }),
        listen: (listener, participantId, rate) => send({ type: 'room-listen', room, listener, participantId, rate }),
        setRate: (listener, rate) => send({ type: 'room-rate', room, listener, rate }),
        unlisten: (listener) => send({ type: 'room-unlisten', room, listener }),
        close: () => thread.closeRoom(room),
      };
    });
  }

  /**
   * An uplink on the thread of the caller's room (in this thread when that thread died). `onFailed`: its thread
   * died, the caller's voice cannot go on (called once, later).
   */
  uplink(spec: UplinkSpec, onFailed: () => void, conferenceId = ''): Uplink {
    const thread = this.threadFor(conferenceId || String(this.nextId));
    if (!thread?.alive) return localUplink(spec, this.socket());
    const id = this.nextId++;
    thread.create(id, spec, onFailed);
    let closed = false;
    return {
      send(frame) {
        if (!closed && thread.alive) thread.send(id, frame);
      },
      repoint(to) {
        if (!closed && thread.alive) thread.repoint(id, to);
      },
      close() {
        if (closed) return;
        closed = true;
        if (thread.alive) thread.close(id);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.fallbackSocket?.close();
  }

  private socket(): dgram.Socket {
    if (!this.fallbackSocket) {
      this.fallbackSocket = dgram.createSocket('udp4');
      this.fallbackSocket.on('message', () => {});
      this.fallbackSocket.on('error', () => {});
    }
    return this.fallbackSocket;
  }
}
