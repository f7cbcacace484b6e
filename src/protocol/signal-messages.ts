// Messages between the browser app (web) and the signalling server (signal), as JSON over one WebSocket.
// Every message that arrives from the network is parsed with these schemas; a message that does not
// parse gets an `error` reply and changes nothing.
import { z } from 'zod';
import { displayNameSchema } from './display-name.ts';
import { meetingClientMessageSchemas, type MeetingServerMessage } from './meeting-messages.ts';
import type { PollErrorCode } from './poll-messages.ts';
import type { BoardErrorCode } from './board-messages.ts';
import { avModerationClientMessageSchemas, type AvModerationServerMessage } from './av-moderation-messages.ts';
import { breakoutClientMessageSchemas, type BreakoutErrorCode, type BreakoutServerMessage } from './breakout-messages.ts';
import { p2pClientMessageSchemas, type P2pServerMessage } from './p2p-messages.ts';
import { e2eeClientMessageSchemas, type E2eeErrorCode, type E2eeServerMessage } from './e2ee-messages.ts';
import { accessClientMessageSchemas, joinAccessFields, roleSchema, type AccessErrorCode, type AccessServerMessage, type Role } from './access-messages.ts';

export const MAX_WS_MESSAGE_BYTES = 256 * 1024;

/** Room names as typed and their canonical key: room-name.ts. */
import { roomNameSchema } from './room-name.ts';
export { roomKey, roomNameSchema } from './room-name.ts';

export { displayNameSchema } from './display-name.ts';

export const mediaKindSchema = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof mediaKindSchema>;

/** A TURN server for the browser's RTCPeerConnection (src/turn/): its URLs and time-limited REST credentials. */
export const iceServerSchema = z.object({
  urls: z.array(z.string().regex(/^turns?:[^\s]{1,300}$/)).min(1).max(8),
  username: z.string().max(200),
  credential: z.string().max(200),
});
export type IceServer = z.infer<typeof iceServerSchema>;

export const participantSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  audioMuted: z.boolean(),
  videoMuted: z.boolean(),
  /** When the hand was raised (server ms); absent when it is down. */
  handRaisedAt: z.number().optional(),
  /** Present and true while this participant shares a screen. */
  screenSharing: z.boolean().optional(),
  /** 'moderator' or 'participant' (absent: participant). */
  role: roleSchema.optional(),
  /** Present and true for a caller on the phone (the SIP gateway). */
  phone: z.literal(true).optional(),
  /** Present and true while its connection is interrupted (its browser has not answered for a few seconds). */
  interrupted: z.literal(true).optional(),
});
export type Participant = z.infer<typeof participantSchema>;

// ---- browser -> server ----

/** Remote video tiles one `receiver-video-constraints` message may list. */
export const MAX_VIDEO_CONSTRAINT_TILES = 64;
/** The largest width or height a tile may report, in device pixels. */
export const MAX_TILE_PIXELS = 16384;

/** A remote video as this browser shows it: which source, and its size in device pixels (0x0: not visible). */
export const tileSizeSchema = z.strictObject({
  participantId: z.string().min(1).max(64),
  /** The participant's camera or shared screen. */
  source: z.enum(['camera', 'screen']),
  width: z.number().int().min(0).max(MAX_TILE_PIXELS),
  height: z.number().int().min(0).max(MAX_TILE_PIXELS),
});
export type TileSize = z.infer<typeof tileSizeSchema>;

/** Every remote video tile at once (not a delta), each (participantId, source) at most once. */
export const tileSizesSchema = z
  .array(tileSizeSchema)
  .max(MAX_VIDEO_CONSTRAINT_TILES, `at most ${MAX_VIDEO_CONSTRAINT_TILES} tiles`)
  .superRefine((tiles, ctx) => {
    const seen = new Set<string>();
    for (const [i, t] of tiles.entries()) {
      const key = `${t.source}\n${t.participantId}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${t.participantId}'s ${t.source} is listed twice` });
      seen.add(key);
    }
  });

/**
 * The tallest video this receiver wants, whatever its tiles (its video-quality setting, video-quality.ts):
 * 0 is audio only (the bridge forwards it no video at all); absent, no cap.
 */
export const receiveMaxHeightSchema = z.number().int().min(0).max(MAX_TILE_PIXELS);
/** A resume token (signal/room-state.ts): 24 random bytes in base64url. */
export const resumeTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'a resume token is 32 base64url characters');

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('join'),
    room: roomNameSchema,
    displayName: displayNameSchema,
    audioMuted: z.boolean(),
    videoMuted: z.boolean(),
    ...joinAccessFields,
    /** The resume token of an earlier `joined` (a reconnect): back in as the same participant, same role. */
    resume: resumeTokenSchema.optional(),
  }),
  /** The browser's SDP answer to the last `offer`. */
  z.object({ type: z.literal('answer'), sdp: z.string().min(1).max(200_000), version: z.number().int().nonnegative() }),
  z.object({ type: z.literal('mute'), kind: mediaKindSchema, muted: z.boolean() }),
  z.object({ type: z.literal('leave') }),
  /**
   * The size at which this browser shows each remote video (debounced, sent when it changed and after each
   * offer); the bridge picks simulcast layers from it.
   */
  z.object({ type: z.literal('receiver-video-constraints'), tiles: tileSizesSchema, maxHeight: receiveMaxHeightSchema.optional() }),
  ...meetingClientMessageSchemas,
  ...accessClientMessageSchemas,
  ...avModerationClientMessageSchemas,
  ...breakoutClientMessageSchemas,
  ...p2pClientMessageSchemas,
  ...e2eeClientMessageSchemas,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

// ---- server -> browser ----

/** Which remote participant's media a receive m-line (by mid) carries. */
export const remoteSourceSchema = z.object({
  mid: z.string(),
  participantId: z.string(),
  kind: mediaKindSchema,
  /** For video: the camera ('video') or a shared screen ('screen'). */
  role: z.enum(['video', 'screen']).optional(),
});
export type RemoteSource = z.infer<typeof remoteSourceSchema>;
/** Receive slots in one session at most (audio and video: the `receiveAudioSlots` + `receiveVideoSlots` caps). */
export const MAX_RECEIVE_SLOTS = 64;
/**
 * Slot mode (a browser in a big room): who plays on which receive slot now (by mid), sent whenever the bridge
 * moves a source; slots not listed carry nothing. The session's SDP does not change.
 */
export const slotMapMessageSchema = z.object({
  type: z.literal('slot-map'),
  /** The media session it is for (the slot offer's `session`): a map of another session is not applied. */
  session: z.string().max(20),
  /** Goes up with each map of one session: a map not newer than the last one applied is stale. */
  version: z.number().int().nonnegative(),
  sources: z.array(remoteSourceSchema).max(MAX_RECEIVE_SLOTS),
});
export type SlotMapMessage = z.infer<typeof slotMapMessageSchema>;
/** A simulcast layer's rid (RFC 8851's rid-id, as the bridge accepts it). */
export const ridSchema = z.string().regex(/^[A-Za-z0-9]{1,16}$/);
/**
 * The simulcast layers of our camera somebody needs (by rid; the lowest is always among them): the browser sends
 * these and pauses the others until they are needed again (the bridge's `bridge.send-layers`).
 */
export const sendLayersMessageSchema = z.object({
  type: z.literal('send-layers'),
  rids: z.array(ridSchema).min(1).max(4),
});
export type SendLayersMessage = z.infer<typeof sendLayersMessageSchema>;
/** Cameras one receiver is told are paused at most (the bridge tells the first ones, by priority). */
export const MAX_SUSPENDED_VIDEOS = 256;
/**
 * The participants whose cameras we show but the bridge does not send us now, because our downlink's bandwidth
 * leaves no room for them (the whole list; empty: none): their tiles say so instead of freezing on a last frame.
 */
export const videoSuspendedMessageSchema = z.object({
  type: z.literal('video-suspended'),
  participantIds: z.array(z.string().min(1).max(128)).max(MAX_SUSPENDED_VIDEOS),
});
export type VideoSuspendedMessage = z.infer<typeof videoSuspendedMessageSchema>;

export type ServerMessage =
  | {
      type: 'joined';
      selfId: string;
      room: string;
      participants: Participant[];
      role: Role;
      /** TURN servers to use (none: direct only). */
      iceServers?: IceServer[];
      resumeToken?: string;
      /** As a moderator it may invite by phone (it signed in or brought a token, or sipDialOutAnonymous is on). */
      phoneInvites?: true;
    }
  | { type: 'participant-joined'; participant: Participant }
  | { type: 'participant-left'; id: string }
  | { type: 'participant-updated'; participant: Participant }
  /**
   * A new session description from the server (the server is always the offerer).
   * mid "0" is the browser's own audio, mid "1" its own video; `sources` maps the other mids.
   * The browser answers with `{type:'answer', version}` carrying the same version.
   * `slots`: the session is in slot mode: mids 3.. are fixed receive slots, `slot-map` messages of media
   * session `session` say whose media plays on each (`sources` is empty).
   */
  | { type: 'offer'; sdp: string; version: number; sources: RemoteSource[]; slots?: boolean; session?: string }
  | SlotMapMessage
  | SendLayersMessage
  | VideoSuspendedMessage
  | { type: 'error'; code: ErrorCode; message: string }
  | MeetingServerMessage
  | AccessServerMessage
  | AvModerationServerMessage
  | BreakoutServerMessage
  | P2pServerMessage
  | E2eeServerMessage;

export type ErrorCode =
  | 'bad-message'
  | 'too-large'
  | 'not-joined'
  | 'already-joined'
  | 'room-full'
  /** A cap of the client's address (IPv4, or IPv6 /64) was hit: connections, participants or new rooms per minute. */
  | 'address-limit'
  /** An overall cap was hit: rooms on the server, or no media bridge has room for another participant. */
  | 'server-full'
  /** The connection did not join a meeting in time (joinTimeout, promptTimeout) and is being closed. */
  | 'join-timeout'
  /** The participant joined but its media could not be set up (focus or the bridges did not answer): joining again may work. */
  | 'media-unavailable'
  | 'rate-limited'
  | 'not-found'
  | 'internal'
  | PollErrorCode
  | BoardErrorCode
  | BreakoutErrorCode
  | E2eeErrorCode
  | AccessErrorCode;
