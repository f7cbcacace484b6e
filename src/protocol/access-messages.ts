// Who gets in and who is in charge (issue 6): the WebSocket messages for signing in, joining with a token or a
// room password, the lobby, and moderator actions. Spread into the unions of signal-messages.ts; the web app
// parses the server's side with `accessServerMessageSchemas`.
import { z } from 'zod';
import { recordingClientMessageSchemas, recordingServerMessageSchemas, type RecordingErrorCode } from './recording-messages.ts';
import { dialOutClientMessageSchemas, dialOutServerMessageSchemas, type DialOutErrorCode } from './dial-out-messages.ts';

export const roleSchema = z.enum(['moderator', 'participant']);
export type Role = z.infer<typeof roleSchema>;

const targetId = z.string().min(1).max(64);
export const roomPasswordSchema = z.string().min(1).max(64);

/** Optional fields of `join`: a Jitsi-style JWT, a sign-in session (from `login-ok`), the room password. */
export const joinAccessFields = {
  jwt: z.string().min(1).max(8192).optional(),
  session: z.string().min(1).max(128).optional(),
  password: roomPasswordSchema.optional(),
};

// ---- browser -> server ----

export const accessClientMessageSchemas = [
  /** Accounts mode: sign in; answered by `login-ok` (a short-lived session for `join`) or an error. */
  z.object({ type: z.literal('login'), username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
  // moderator actions: refused with `not-moderator` for everyone else
  z.object({ type: z.literal('mute-participant'), target: targetId }),
  /** Everyone else's microphone, or (`kind` video, Jitsi's "Stop everyone's video") camera. */
  z.object({ type: z.literal('mute-everyone'), kind: z.enum(['audio', 'video']).optional() }),
  z.object({ type: z.literal('ask-stop-camera'), target: targetId }),
  /** Lowers the target's raised hand, or (no target) every raised hand in the room. */
  z.object({ type: z.literal('lower-hand'), target: targetId.optional() }),
  z.object({ type: z.literal('remove-participant'), target: targetId }),
  z.object({ type: z.literal('grant-moderator'), target: targetId }),
  z.object({ type: z.literal('end-meeting') }),
  z.object({ type: z.literal('lock-room'), password: roomPasswordSchema }),
  z.object({ type: z.literal('unlock-room') }),
  z.object({ type: z.literal('set-lobby'), enabled: z.boolean() }),
  z.object({ type: z.literal('set-self-unmute'), allowed: z.boolean() }),
  z.object({ type: z.literal('lobby-admit'), id: targetId }),
  z.object({ type: z.literal('lobby-deny'), id: targetId }),
  ...recordingClientMessageSchemas,
  ...dialOutClientMessageSchemas,
] as const;

export const ACCESS_CLIENT_TYPES: readonly string[] = accessClientMessageSchemas.map((s) => s.shape.type.value);

export type AccessClientMessage = z.infer<(typeof accessClientMessageSchemas)[number]>;

export function isAccessClientMessage(m: { type: string }): m is AccessClientMessage {
  return ACCESS_CLIENT_TYPES.includes(m.type);
}

// ---- server -> browser ----

export const lobbyKnockSchema = z.object({ id: z.string(), displayName: z.string() });
export type LobbyKnock = z.infer<typeof lobbyKnockSchema>;

export const roomStateSchema = z.object({
  type: z.literal('room-state'),
  locked: z.boolean(),
  lobby: z.boolean(),
  /** False when a moderator stopped participants from unmuting themselves. */
  selfUnmuteAllowed: z.boolean(),
  /** The room password; only moderators are told. */
  password: z.string().optional(),
});

export const accessServerMessageSchemas = [
  z.object({ type: z.literal('login-ok'), username: z.string(), session: z.string(), expiresInSeconds: z.number() }),
  roomStateSchema,
  /**
   * The join waits in the lobby until a moderator admits (`joined` follows) or denies (`error` `denied`). `locked`:
   * the room has a password, and `join` again with it (from this socket, still waiting) skips the lobby; sent again
   * when a moderator locks or unlocks the room meanwhile.
   */
  z.object({ type: z.literal('lobby-wait'), room: z.string(), locked: z.boolean().optional() }),
  /**
   * A guest's join where the meeting has not started (accounts or token mode with guests allowed): nothing is
   * held; the page sends `join` again now and then and gets in once a host has started the meeting. `signIn`: the
   * host starts it by signing in here (accounts mode), else with their own meeting link (token mode).
   */
  z.object({ type: z.literal('host-wait'), room: z.string(), signIn: z.boolean() }),
  /** To moderators: who is knocking now (the whole list). */
  z.object({ type: z.literal('lobby-list'), knocks: z.array(lobbyKnockSchema) }),
  /**
   * A moderator muted this participant's microphone (or, `kind` video, a moderator or an admin turned their camera
   * off); `atJoin`: nobody did just now, the participant joins muted as the room's moderation says.
   */
  z.object({ type: z.literal('force-muted'), by: z.string(), kind: z.literal('video').optional(), atJoin: z.literal(true).optional() }),
  /** A moderator asks this participant to stop their camera. */
  z.object({ type: z.literal('camera-stop-requested'), by: z.string() }),
  /** A moderator lowered this participant's raised hand: the page lowers it (sends `hand`). */
  z.object({ type: z.literal('hand-lowered'), by: z.string() }),
  /** This participant was removed by a moderator (no longer in the room). */
  z.object({ type: z.literal('removed'), by: z.string() }),
  /** A moderator ended the meeting for everyone. */
  z.object({ type: z.literal('meeting-ended'), by: z.string() }),
  ...recordingServerMessageSchemas,
  ...dialOutServerMessageSchemas,
] as const;

export type AccessServerMessage = z.infer<(typeof accessServerMessageSchemas)[number]>;

export type AccessErrorCode =
  /** This server needs a sign-in or a token here (accounts / token mode). */
  | 'auth-required'
  /** Token mode: this needs a token (`?jwt=` in the meeting link). */
  | 'token-required'
  /** Username or password wrong. */
  | 'login-failed'
  /** A sign-in where the server has no accounts to sign in with (open or token mode without adminAccounts). */
  | 'no-accounts'
  /** The `jwt` was refused; the message says why. */
  | 'bad-token'
  /** The room is locked: send `join` again with `password`. */
  | 'password-required'
  | 'wrong-password'
  /** Too many failed attempts; the message says when to try again. */
  | 'rate-limited'
  /** A moderator refused the lobby knock. */
  | 'denied'
  /** Nobody can answer a lobby knock: the meeting ended while waiting, or its people all dropped (their lobby kept). */
  | 'lobby-closed'
  | 'not-moderator'
  /** Not allowed for this participant now (e.g. unmuting while the moderator disabled it). */
  | 'not-allowed'
  | 'no-such-participant'
  | RecordingErrorCode
  | DialOutErrorCode;
