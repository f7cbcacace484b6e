// What a room and its members are (rooms.ts runs them): a client connection (Session), a participant in a room
// (Member, maybe a stand-in for one whose socket is on another signal instance), the room, and what admission
// grants a join. Pure data and two helpers; no behaviour.
import type { Role } from '../protocol/access-messages.ts';
import type { ClientMessage, IceServer, Participant, ServerMessage } from '../protocol/signal-messages.ts';

/** One client connection, whatever carries it (a WebSocket in practice). */
export interface Session {
  send(message: ServerMessage): void;
  member?: Member;
  /** The peer's network address, for rate limits (password and sign-in attempts). */
  remoteAddress?: string;
  /** TURN servers with fresh credentials for this connection's browser (src/turn/), sent with `joined`. */
  iceServers?: () => IceServer[];
  /** Where the participant is (signal/region.ts): focus prefers a bridge of that region. */
  region?: string;
  /** The newest offer version this connection was sent (in any room): a move's offers are numbered after it. */
  offerVersion?: number;
  /** Its media session receives on slots (a big room: focus said so in an offer); end-to-end encryption needs one m-line per source. */
  receiveSlots?: boolean;
  /** From focus's last offer: the bridge its media session is on, and that session (slot maps of others are dropped). */
  mediaBridgeId?: string;
  mediaSession?: string;
}

/** What admission decided for a join: the role, and whether the person signed in or brought a token. */
export interface JoinGrant {
  role: Role;
  authenticated: boolean;
  /** A display name from the credentials (a token's context.user.name), used instead of the typed one. */
  displayName?: string;
  /** Moderator only because the room was empty when asked: re-checked when actually entering the room. */
  firstComer?: boolean;
  /** A caller on the phone (the SIP gateway). */
  phone?: boolean;
  /** Not a browser (a phone, `tertulia play`): it never reconnects, so it gets no resume token. */
  plain?: boolean;
  /** A reconnect: back in as this participant id (from its resume token, room-state.ts). */
  resumeId?: string;
  /** The token that resumed it (forgotten once a new one is given). */
  resumedWith?: string;
  /** Signed in with this account (accounts mode): a resume re-checks that it still exists with that password. */
  account?: { username: string; stamp: string };
}

export interface Member {
  id: string;
  room: Room;
  displayName: string;
  audioMuted: boolean;
  videoMuted: boolean;
  session: Session;
  /** When the hand went up (ms since the epoch); undefined while it is down. */
  handRaisedAt?: number;
  /** True while sharing a screen. */
  screenSharing?: boolean;
  /** A moderator (or an admin) turned the camera off and the participant has not turned it on since. */
  videoForceMuted?: boolean;
  role: Role;
  /** Signed in (accounts mode) or joined with a valid token (token mode). */
  authenticated: boolean;
  /** The account it signed in with (accounts mode), kept in its resume record. */
  account?: { username: string; stamp: string };
  /** Bus requests for this participant run one after another, in the order the browser caused them. */
  queue: Promise<void>;
  /** When it entered the room (ms since the epoch). */
  joinedAt: number;
  /** A caller on the phone: never made moderator, and does not count as the meeting having started. */
  phone?: boolean;
  /** Its browser has not answered for a few seconds (ws.ts INTERRUPTED_AFTER_MS): the others see it interrupted. */
  interrupted?: boolean;
  /** Its media was attached by `joinPlain` (a phone caller, a file played in), not by focus.join: it never moves. */
  plain?: boolean;
  /** Given in `joined`: a reconnecting browser comes back as this member with it (room-state.ts). */
  resumeToken?: string;
  /** A member whose socket is on another signal instance (this id), stood in for here (room-fanout.ts). */
  remote?: string;
  /** For a remote member: when its connection there entered (orders its presences). */
  remoteSince?: number;
}

export interface LeaveOptions {
  resumable?: boolean;
  displaced?: boolean;
  returning?: boolean;
}

export interface Room {
  key: string;
  /** The name as first typed by whoever created the room. */
  name: string;
  members: Map<string, Member>;
  /** The participant the bridge last named dominant speaker (sent to late joiners). */
  dominantSpeaker?: string;
  /** The bridge says the dominant speaker has gone silent (they stay dominant until someone else speaks). */
  dominantSilent?: boolean;
  /** When its first participant entered (ms since the epoch). */
  startedAt: number;
  /** A breakout room (breakout-rooms.ts): the meeting's main room and this room's id there. */
  breakout?: { main: Room; id: string };
  /** A main room with breakout rooms: how many of its meeting's people (not phones) are in them now. */
  peopleInBreakouts?: () => number;
}

/** Someone entered or left a room: told to observers (webhooks.ts) from the one place each happens. */
export type PresenceChange =
  | { kind: 'joined'; room: Room; member: Member; roomStarted: boolean }
  | { kind: 'left'; room: Room; member: Member; roomFinished: boolean; reason: string }
  /** A room kept open while empty (`Rooms.holds`: a main room whose people are in breakout rooms) was let go. */
  | { kind: 'finished'; room: Room };

export type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export function toParticipant(m: Member): Participant {
  const p: Participant = { id: m.id, displayName: m.displayName, audioMuted: m.audioMuted, videoMuted: m.videoMuted };
  if (m.handRaisedAt !== undefined) p.handRaisedAt = m.handRaisedAt;
  if (m.screenSharing) p.screenSharing = true;
  p.role = m.role;
  if (m.phone) p.phone = true;
  if (m.interrupted) p.interrupted = true;
  return p;
}

/** People in the room (or its breakout rooms) other than phone callers (a room with only callers has no host yet). */
export function peopleIn(room: Room | undefined): number {
  let n = room?.peopleInBreakouts?.() ?? 0;
  for (const m of room?.members.values() ?? []) if (!m.phone) n++;
  return n;
}
