// The admin HTTP API (/api/v1 on the HTTPS port, src/signal/admin-api.ts): what a request may carry and what it
// answers. Every answer is JSON; a refusal is {error: <code>, message: <a sentence>}.
import { z } from 'zod';
import { mediaKindSchema, roomNameSchema } from './signal-messages.ts';

/** Request bodies at most (bytes). */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

export const adminRoomNameSchema = roomNameSchema;
/** Participant ids as signal makes them (8 hex digits), with room to change. */
export const adminParticipantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a participant id is letters, digits, "-" and "_" (at most 64)');

/** POST /api/v1/rooms/<room>/participants/<id>/mute */
export const adminMuteSchema = z.object({ kind: mediaKindSchema }).strict();

export type AdminErrorCode = 'not-found' | 'unauthorized' | 'rate-limited' | 'bad-request' | 'method-not-allowed' | 'too-large' | 'unsupported-media-type' | 'internal';

export interface AdminRoom {
  name: string;
  participants: number;
  /** ISO 8601, UTC. */
  startedAt: string;
}

export interface AdminParticipant {
  id: string;
  displayName: string;
  moderator: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  /** ISO 8601, UTC. */
  joinedAt: string;
}
