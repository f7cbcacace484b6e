// Checks messages from the signalling server before the app acts on them.
import { z } from 'zod';
import {
  iceServerSchema,
  participantSchema,
  remoteSourceSchema,
  roomKey,
  sendLayersMessageSchema,
  slotMapMessageSchema,
  videoSuspendedMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from '../../protocol/signal-messages.ts';
import { meetingServerMessageSchemas } from '../../protocol/meeting-messages.ts';
import { avModerationServerMessageSchemas } from '../../protocol/av-moderation-messages.ts';
import { accessServerMessageSchemas, roleSchema } from '../../protocol/access-messages.ts';
import { e2eeServerMessageSchemas } from '../../protocol/e2ee-messages.ts';
import { breakoutServerMessageSchemas } from '../../protocol/breakout-messages.ts';
import { p2pServerMessageSchemas } from '../../protocol/p2p-messages.ts';

const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('joined'),
    selfId: z.string(),
    room: z.string(),
    participants: z.array(participantSchema),
    role: roleSchema.optional(),
    iceServers: z.array(iceServerSchema).max(4).optional(),
    resumeToken: z.string().max(64).optional(),
    phoneInvites: z.literal(true).optional(),
  }),
  z.object({ type: z.literal('participant-joined'), participant: participantSchema }),
  z.object({ type: z.literal('participant-left'), id: z.string() }),
  z.object({ type: z.literal('participant-updated'), participant: participantSchema }),
  z.object({
    type: z.literal('offer'),
    sdp: z.string(),
    version: z.number(),
    sources: z.array(remoteSourceSchema),
    slots: z.boolean().optional(),
    session: z.string().max(20).optional(),
  }),
  slotMapMessageSchema,
  sendLayersMessageSchema,
  videoSuspendedMessageSchema,
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  ...meetingServerMessageSchemas,
  ...accessServerMessageSchemas,
  ...avModerationServerMessageSchemas,
  ...breakoutServerMessageSchemas,
  ...p2pServerMessageSchemas,
  ...e2eeServerMessageSchemas,
]);

/** The message, or undefined when it is not JSON or not a message this app knows. */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const r = serverMessageSchema.safeParse(json);
  return r.success ? (r.data as ServerMessage) : undefined;
}

export function encodeClientMessage(m: ClientMessage): string {
  return JSON.stringify(m);
}

/**
 * The signalling socket's URL. A meeting's socket names its room (`?room=` the room key): the server ignores it, a
 * load balancer in front of several signal instances keeps a room's sockets on one instance with it (README).
 */
export function signalUrl(loc: Pick<Location, 'protocol' | 'host'>, room?: string): string {
  const query = room === undefined ? '' : `?room=${encodeURIComponent(roomKey(room))}`;
  return `${loc.protocol === 'http:' ? 'ws' : 'wss'}://${loc.host}/ws${query}`;
}
