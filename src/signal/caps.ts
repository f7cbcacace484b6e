// Caps on what one client address and the whole signal server may hold, so that one address cannot fill the
// server: open WebSockets and joined participants per address, rooms an address may create per minute, rooms
// on the server and participants per room. An address is counted by rateLimitKey (IPv4, or the /64 of IPv6).
// ws.ts asks `connect`/`disconnect`; rooms.ts asks `checkJoin` before a join and reports `joined`/`left`.
// Invariant: every count equals the sockets/members currently open/joined under that key; zero counts are deleted.
import type { Config } from '../config/config.ts';
import type { ErrorCode } from '../protocol/signal-messages.ts';
import { FailureLimiter } from './auth/failure-limiter.ts';
import { rateLimitKey } from './client-address.ts';

export type CapsConfig = Pick<
  Config,
  'maxConnectionsPerAddress' | 'maxParticipantsPerAddress' | 'maxRoomsPerAddressPerMinute' | 'maxRooms' | 'maxParticipantsPerRoom'
>;

export const DEFAULT_CAPS: CapsConfig = {
  maxConnectionsPerAddress: 100,
  maxParticipantsPerAddress: 50,
  maxRoomsPerAddressPerMinute: 10,
  maxRooms: 1000,
  maxParticipantsPerRoom: 100,
};

/** A refusal: the `error` a client gets. */
export interface Refusal {
  code: ErrorCode;
  message: string;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

export class Caps {
  readonly config: CapsConfig;
  private readonly connections = new Map<string, number>();
  private readonly participants = new Map<string, number>();
  private readonly roomsCreated: FailureLimiter;
  /** When each address was last logged at warn level for a refusal (a flood of refusals is not a flood of warnings). */
  private readonly warned = new Map<string, number>();

  constructor(config: CapsConfig = DEFAULT_CAPS) {
    this.config = config;
    this.roomsCreated = new FailureLimiter({ maxFailures: config.maxRoomsPerAddressPerMinute, windowMs: 60_000 });
  }

  /** A new socket from `address`: counted, or refused when the address already has its cap of open ones. */
  connect(address: string | undefined): Refusal | null {
    const key = rateLimitKey(address);
    if ((this.connections.get(key) ?? 0) >= this.config.maxConnectionsPerAddress) {
      return {
        code: 'address-limit',
        message: `too many open connections from your address (at most ${this.config.maxConnectionsPerAddress}); close other meeting tabs and try again`,
      };
    }
    increment(this.connections, key);
    return null;
  }

  disconnect(address: string | undefined): void {
    decrement(this.connections, rateLimitKey(address));
  }

  /**
   * May a participant from `address` join a room that has `roomSize` members now (undefined: the room does not
   * exist yet, this join creates it) while the server has `roomCount` rooms?
   */
  checkJoin(address: string | undefined, roomSize: number | undefined, roomCount: number, now = Date.now()): Refusal | null {
    const key = rateLimitKey(address);
    const c = this.config;
    if (roomSize !== undefined && roomSize >= c.maxParticipantsPerRoom) {
      return { code: 'room-full', message: `the meeting is full (${c.maxParticipantsPerRoom} participants)` };
    }
    if ((this.participants.get(key) ?? 0) >= c.maxParticipantsPerAddress) {
      return { code: 'address-limit', message: `too many participants from your address are in meetings (at most ${c.maxParticipantsPerAddress})` };
    }
    if (roomSize === undefined) {
      if (roomCount >= c.maxRooms) return { code: 'server-full', message: `this server holds as many meetings as it may (${c.maxRooms}); try again later` };
      const wait = this.roomsCreated.retryAfterSeconds(key, now);
      if (wait > 0) {
        return {
          code: 'address-limit',
          message: `too many new meetings from your address (at most ${c.maxRoomsPerAddressPerMinute} a minute); try again in ${wait} s`,
        };
      }
    }
    return null;
  }

  /** May a move open another room (a breakout room nobody is in yet) while the server has `roomCount` rooms? */
  checkNewRoom(roomCount: number): Refusal | null {
    const max = this.config.maxRooms;
    return roomCount >= max ? { code: 'server-full', message: `this server holds as many rooms as it may (${max}, breakout rooms included); try again later` } : null;
  }

  /** A participant from `address` joined; `createdRoom` when the join made the room. */
  joined(address: string | undefined, createdRoom: boolean, now = Date.now()): void {
    const key = rateLimitKey(address);
    increment(this.participants, key);
    if (createdRoom) this.roomsCreated.fail(key, now);
  }

  left(address: string | undefined): void {
    decrement(this.participants, rateLimitKey(address));
  }

  /** True at most once a minute per address: whether a refusal of `address` deserves a warning in the log. */
  warnAbout(address: string | undefined, now = Date.now()): boolean {
    const key = rateLimitKey(address);
    const last = this.warned.get(key);
    if (last !== undefined && now - last < 60_000) return false;
    if (this.warned.size >= 10_000) this.warned.clear();
    this.warned.set(key, now);
    return true;
  }

  /** Addresses with open sockets, and with joined participants: 0 once every socket closed. */
  resourceCounts(): Record<string, number> {
    return { 'signal.capsConnectionAddresses': this.connections.size, 'signal.capsParticipantAddresses': this.participants.size };
  }

  /** Open sockets and joined participants under `address`'s key (for tests and diagnostics). */
  countsOf(address: string | undefined): { connections: number; participants: number } {
    const key = rateLimitKey(address);
    return { connections: this.connections.get(key) ?? 0, participants: this.participants.get(key) ?? 0 };
  }
}
