// Between signal instances (signal/room-fanout.ts), over the bus: who is in which room on which instance, and
// messages for a participant whose socket is on another instance.
import { z } from 'zod';
import { participantSchema } from './signal-messages.ts';
import { breakoutIdSchema } from './breakout-messages.ts';
import { MAX_BOARD_DOC_BYTES } from './board-messages.ts';

export const fanoutSubjects = {
  /** An instance's member entered, changed (name, mute, hand, role) or left a room. */
  presence: 'signal.presence',
  /** A new instance asks every other one to tell its members again; also its liveness (every few seconds). */
  hello: 'signal.hello',
  alive: 'signal.alive',
  /** A moderator changed a room's policy (lock, lobby, self-unmute): the room's other instances apply it. */
  policy: 'signal.room-policy',
  /** A shared room item (signal/shared-room-items.ts: subject, polls, recording flags) changed in the store: re-read it. */
  roomItem: 'signal.room-item',
  /**
   * A room's whiteboard and notes changed on an instance (a participant's Yjs update): the room's other instances
   * apply it to their document and relay it to their own participants; or an instance that just took up the room
   * asks for what it lacks (`want`), answered to it alone (`to`). signal/board-sync.ts.
   */
  board: 'signal.board',
  /** To one instance: a moderator elsewhere admitted or denied a knock it holds (signal/lobby.ts). */
  lobbyAnswer: (instance: string) => `signal.lobby-answer.${instance}`,
  /** To one instance: a moderator elsewhere moves one of its members into a breakout room or back (signal/breakout-rooms.ts). */
  breakoutMove: (instance: string) => `signal.breakout-move.${instance}`,
  /** To one instance: a message for one of its members, or "this member must leave" (a moderator elsewhere removed it). */
  deliver: (instance: string) => `signal.deliver.${instance}`,
} as const;

const instanceId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const key = z.string().min(1).max(512);

export const presenceSchema = z.object({
  instance: instanceId,
  room: key,
  roomName: z.string().min(1).max(512),
  participant: participantSchema,
  state: z.enum(['in', 'out']),
  /** When this connection of the participant entered (ms since the epoch): a later one wins over an earlier one. */
  since: z.number(),
  /** With `out`: the connection dropped (it may come back), rather than a deliberate leave. */
  resumable: z.boolean().optional(),
  /** `room` is a breakout room: its meeting's main room (key, name) and its id there. */
  breakout: z.object({ main: key, mainName: z.string().min(1).max(512), id: breakoutIdSchema }).optional(),
});
export type Presence = z.infer<typeof presenceSchema>;

export const instanceSchema = z.object({ instance: instanceId });

export const deliverSchema = z.object({
  room: key,
  participantId: z.string().min(1).max(128),
  /** A server -> browser message (the browser validates it as every message). */
  message: z.object({ type: z.string() }).passthrough().optional(),
  /** Instead of a message: the member leaves the room, for this reason (not resumable). */
  leave: z.string().max(200).optional(),
  /** Instead of a message: a moderator on the sending instance made the member a moderator. */
  promote: z.literal(true).optional(),
});

/** A room's policy as stored (signal/room-state.ts) and sent between instances. */
export const storedPolicySchema = z.object({
  password: z.string().max(256).optional(),
  lobby: z.boolean(),
  selfUnmuteAllowed: z.boolean(),
  camerasStopped: z.boolean().optional(),
  /**
   * Set when the room's last connection dropped (rather than left): until then (ms since the epoch) the lock and
   * lobby hold for newcomers too, while its people may come back (ROOM_RETURN_GRACE_MS).
   */
  keptUntil: z.number().optional(),
});
export type StoredPolicy = z.infer<typeof storedPolicySchema>;

export const roomPolicySchema = z.object({ instance: instanceId, room: key, policy: storedPolicySchema });
export type Deliver = z.infer<typeof deliverSchema>;

/** Names a shared room item that changed (its value is in the store, never on the bus). */
export const roomItemSchema = z.object({ instance: instanceId, room: key, item: z.string().regex(/^[a-z][a-z-]{0,31}$/) });
export type RoomItemChange = z.infer<typeof roomItemSchema>;

/** A moderator's answer to a lobby knock held by the receiving instance. */
export const lobbyAnswerSchema = z.object({ room: key, id: z.string().min(1).max(16), admit: z.boolean(), by: z.string().max(1000) });

/** A moderator's move of a member held by the receiving instance: into breakout room `roomId` of meeting `main`, or back (null). */
export const breakoutMoveSchema = z.object({ main: key, participantId: z.string().min(1).max(128), roomId: breakoutIdSchema.nullable(), by: z.string().max(128) });
/** A board change between instances, or a request for what an instance lacks (its Yjs state vector). */
export const boardSyncSchema = z.object({
  instance: instanceId,
  room: key,
  /** A Yjs update in base64 (at most a whole document: MAX_BOARD_DOC_BYTES and a little more). */
  update: z.string().max(Math.ceil((MAX_BOARD_DOC_BYTES + 64 * 1024) / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
  /** Instead of an update: the sender's state vector (base64); the room's other instances answer what it lacks. */
  want: z.string().max(64 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
  /** An answer to `want`: only this instance applies it. */
  to: instanceId.optional(),
});
export type BoardSync = z.infer<typeof boardSyncSchema>;
