// A room's whiteboard and notes across signal instances (board.ts, room-fanout.ts), over the bus subject
// `signal.board`: a participant's change is applied by its own instance and published; each other instance that
// has the room applies it to its own document and relays it to its own participants (so a late joiner on any
// instance gets the whole board). An instance taking up a room that already has people elsewhere asks for what it
// lacks (`want`, with its state vector) and the instances that have the room answer it alone (`to`).
import type { Bus, Json } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { boardSyncSchema, fanoutSubjects, type BoardSync as BoardSyncMessage } from '../protocol/signal-fanout-messages.ts';
import type { BoardPeers, MeetingBoards } from './board.ts';
import type { Rooms } from './rooms.ts';

export class BoardSync implements BoardPeers {
  private readonly bus: Bus;
  private readonly instance: string;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;

  constructor(bus: Bus, instance: string, log: Logger) {
    this.bus = bus;
    this.instance = instance;
    this.log = log;
  }

  start(boards: MeetingBoards, rooms: Rooms): void {
    this.unsubscribe = this.bus.subscribe(fanoutSubjects.board, (payload) => {
      try {
        this.onMessage(boards, rooms, payload);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'board sync handling failed');
      }
    });
    boards.peers = this;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  publish(roomKey: string, update: string): void {
    this.send({ instance: this.instance, room: roomKey, update });
  }

  want(roomKey: string, stateVector: Uint8Array): void {
    this.send({ instance: this.instance, room: roomKey, want: Buffer.from(stateVector).toString('base64') });
  }

  private send(message: BoardSyncMessage): void {
    this.bus.publish(fanoutSubjects.board, message as unknown as Json);
  }

  private onMessage(boards: MeetingBoards, rooms: Rooms, payload: unknown): void {
    const parsed = boardSyncSchema.safeParse(payload);
    if (!parsed.success) {
      this.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.board');
      return;
    }
    const m = parsed.data;
    if (m.instance === this.instance || (m.to !== undefined && m.to !== this.instance)) return;
    const room = rooms.rooms.get(m.room);
    if (!room) return;
    if (m.update !== undefined) boards.applyElsewhere(room, m.update);
    else if (m.want !== undefined) {
      const update = boards.missing(room, Buffer.from(m.want, 'base64'));
      if (update) this.send({ instance: this.instance, room: m.room, update, to: m.instance });
    }
  }
}
