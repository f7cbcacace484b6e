// The local control socket (<dataDir>/control.sock) between the `tertulia` command and a running server on the
// same machine: one JSON request per line, one JSON reply per line. What it starts lasts as long as the
// connection: closing it ends the play or the tap.
import { z } from 'zod';
import { bridgeAllocatePlainReplySchema, lostMsAgoSchema } from './bus-messages.ts';
import { displayNameSchema } from './display-name.ts';
import { mediaKindSchema, roomNameSchema } from './signal-messages.ts';

/** The socket's file name inside the data directory. */
export const CONTROL_SOCKET = 'control.sock';
/** A request line longer than this closes the connection. */
export const MAX_CONTROL_LINE = 16 * 1024;

const kindsSchema = z.array(mediaKindSchema).min(1).max(2);
const port = z.number().int().min(1).max(65535);

export const controlRequestSchema = z.discriminatedUnion('op', [
  /** A participant named `name` sending over plain RTP (the command runs ffmpeg to the ports in the reply). */
  z.object({ op: z.literal('play'), room: roomNameSchema, name: displayNameSchema, kinds: kindsSchema }).strict(),
  /**
   * A participant's microphone and/or camera sent over plain RTP to `address`, one port per kind (`rtcpMux`,
   * or RTCP on port + 1); the reply's SDP opens it in ffmpeg/ffplay. `participant`: its id or display name.
   */
  z
    .object({
      op: z.literal('tap'),
      room: roomNameSchema,
      participant: z.string().min(1).max(128),
      address: z.ipv4(),
      ports: z.object({ audio: port.optional(), video: port.optional() }).strict(),
      rtcpMux: z.boolean().default(true),
    })
    .strict()
    .refine((r) => r.ports.audio !== undefined || r.ports.video !== undefined, 'give a port for audio, video or both'),
  /** What the server is doing (`tertulia status`): answered once, then the connection closes. */
  z.object({ op: z.literal('status') }).strict(),
]);
export type ControlRequest = z.infer<typeof controlRequestSchema>;
/** After a tap's reply: "my ports are open now, start sending" (answered with `{ok: true}`). */
export const controlStartSchema = z.object({ op: z.literal('start') }).strict();

export const controlPlayReplySchema = z.object({
  ok: z.literal(true),
  participantId: z.string(),
  /** Where to send: the bridge's address and each kind's ports. */
  address: z.string(),
  legs: bridgeAllocatePlainReplySchema.shape.legs,
  /** The SSRC to send each kind with. */
  ssrcs: z.object({ audio: z.number().int().optional(), video: z.number().int().optional() }),
  /** SDES key (base64) to encrypt with (AES_CM_128_HMAC_SHA1_80). */
  srtpKey: z.string(),
});
export type ControlPlayReply = z.infer<typeof controlPlayReplySchema>;
/**
 * Said on a play connection after its reply, when the meeting's bridge went away and the player's endpoint was
 * made again on another one: send there from now on, with this key (the same SSRCs), from the point of the file
 * played `lostMsAgo` ms ago, when the old endpoint was lost (absent from an older server: now).
 */
export const controlPlayMovedSchema = z.object({
  event: z.literal('moved'),
  address: z.string(),
  legs: bridgeAllocatePlainReplySchema.shape.legs,
  srtpKey: z.string(),
  lostMsAgo: lostMsAgoSchema.optional(),
});
export type ControlPlayMoved = z.infer<typeof controlPlayMovedSchema>;

export const controlTapReplySchema = z.object({
  ok: z.literal(true),
  endpointId: z.string(),
  /** The session description ffmpeg or ffplay opens to receive it. */
  sdp: z.string(),
});
export type ControlTapReply = z.infer<typeof controlTapReplySchema>;

export const controlErrorSchema = z.object({ ok: z.literal(false), error: z.string() });

export const serverStatusSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  uptimeSeconds: z.number(),
  participants: z.number().int(),
  rooms: z.array(
    z.object({
      name: z.string(),
      participants: z.number().int(),
      moderators: z.number().int(),
      locked: z.boolean(),
      lobby: z.boolean(),
      /** A recording and/or a live stream runs there. */
      running: z.array(z.enum(['recording', 'live-stream'])),
    }),
  ),
  /**
   * Bridges heard on the bus within 15 s. `silentSeconds`: not heard for that long (a bridge that stopped stays
   * listed up to 15 s); `draining`: stopping, its meetings move away.
   */
  bridges: z.array(z.object({ id: z.string(), endpoints: z.number().int(), maxEndpoints: z.number().int().optional(), draining: z.boolean().optional(), silentSeconds: z.number().int().optional() })),
  /**
   * The bus between the parts: `memory` (every part in this process, no NATS), or NATS: its address without
   * credentials, whether connected, and while not for how long (the client reconnects meanwhile).
   */
  bus: z
    .object({ kind: z.enum(['memory', 'nats']), server: z.string().optional(), connected: z.boolean(), downSeconds: z.number().int().min(0).optional() })
    .optional(),
  /** Recorders heard lately, with their free places. */
  recorders: z.array(z.object({ id: z.string(), free: z.number().int() })),
  /** The certificate HTTPS serves. */
  certificate: z.object({ subject: z.string(), issuer: z.string(), selfSigned: z.boolean(), notAfter: z.string(), daysLeft: z.number().int() }).optional(),
  domain: z.string().optional(),
  /** TURN (src/turn/): coturn here, an external server's credentials, or off. */
  turn: z
    .object({
      mode: z.enum(['coturn', 'external', 'off']),
      state: z.string().optional(),
      port: z.number().int().optional(),
      restarts: z.number().int().optional(),
      reason: z.string().optional(),
      tlsConnections: z.number().int().optional(),
      tlsOpen: z.number().int().optional(),
    })
    .optional(),
});
export type ServerStatus = z.infer<typeof serverStatusSchema>;
