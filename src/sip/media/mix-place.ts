// Where one room's audio is received, decoded and mixed (room-mixer.ts): a UDP socket on the gateway's media
// address (the bridge sends the room's audio there) and the mixer, ticked by a 20 ms frame clock. `MixPlace` is
// what the room's control (room-mix.ts) holds; `LocalMixPlace` is the place itself, made in the gateway's own
// thread (no media threads) or on a media thread (media-worker.ts, which gives the frames back to the gateway's
// thread in one message per tick: media-threads.ts `ThreadMixPlace`). Nothing here throws on the packet path.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { AudioRate } from '../call-audio.ts';
import type { FrameClock } from './frame-clock.ts';
import { RoomMixer, type EmitFrame } from './room-mixer.ts';

/** One room's mix, wherever it runs. Listener ids are the control's own. */
export interface MixPlace {
  /** The UDP port the bridge sends the room's audio to. */
  readonly port: number;
  setKey(key: string): void;
  setSources(sources: ReadonlyArray<readonly [number, string]>): void;
  listen(id: number, participantId: string, rate: AudioRate): void;
  setRate(id: number, rate: AudioRate): void;
  unlisten(id: number): void;
  close(): void;
}

export class LocalMixPlace implements MixPlace {
  readonly port: number;
  readonly mixer = new RoomMixer();
  private readonly socket: dgram.Socket;
  private readonly stopClock: () => void;
  private closed = false;

  private constructor(socket: dgram.Socket, clock: FrameClock, emit: EmitFrame) {
    this.socket = socket;
    this.port = (socket.address() as AddressInfo).port;
    socket.on('message', (buf) => this.mixer.receive(buf));
    this.stopClock = clock.add(() => this.mixer.mix(emit));
  }

  /** Binds a socket on `address` (any free port) and mixes on `clock`, giving each listener's frame to `emit`. */
  static async open(address: string, clock: FrameClock, emit: EmitFrame, onSocketError: (e: Error) => void = () => {}): Promise<LocalMixPlace> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      throw e;
    });
    socket.on('error', onSocketError);
    return new LocalMixPlace(socket, clock, emit);
  }

  setKey(key: string): void {
    this.mixer.setKey(key);
  }

  setSources(sources: ReadonlyArray<readonly [number, string]>): void {
    this.mixer.setSources(sources);
  }

  listen(id: number, participantId: string, rate: AudioRate): void {
    this.mixer.listen(id, participantId, rate);
  }

  setRate(id: number, rate: AudioRate): void {
    this.mixer.setRate(id, rate);
  }

  unlisten(id: number): void {
    this.mixer.unlisten(id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopClock();
    this.mixer.close();
    this.socket.close();
  }
}
