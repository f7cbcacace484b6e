// Audio/video moderation ("Ask to unmute", Jitsi's "Moderate audio" / "Moderate video"): the WebSocket messages.
// While a moderator moderates a kind, participants who are not moderators have it off and cannot turn it on
// themselves; they ask, and a moderator allows them (one or everyone who asked). Spread into the unions of
// signal-messages.ts; the web app parses the server's side with `avModerationServerMessageSchemas`.
import { z } from 'zod';

/** As signal-messages.ts's mediaKindSchema (not imported from there: that file includes this one). */
const kindSchema = z.enum(['audio', 'video']);
const targetId = z.string().min(1).max(64);

// ---- browser -> server ----

export const avModerationClientMessageSchemas = [
  /** Moderators: start or stop moderating `kind` (starting turns it off for every participant who is not a moderator). */
  z.object({ type: z.literal('set-av-moderation'), kind: kindSchema, enabled: z.boolean() }),
  /** A participant asks to turn `kind` on (`raised` false withdraws the request). Rate-limited per participant. */
  z.object({ type: z.literal('ask-to-unmute'), kind: kindSchema, raised: z.boolean().default(true) }),
  /** Moderators: `target` may turn `kind` on now; without `target`, everyone who asked. */
  z.object({ type: z.literal('allow-unmute'), kind: kindSchema, target: targetId.optional() }),
  /** Moderators: dismiss `target`'s request without allowing it. */
  z.object({ type: z.literal('dismiss-unmute-request'), kind: kindSchema, target: targetId }),
] as const;

export const AV_MODERATION_CLIENT_TYPES: readonly string[] = avModerationClientMessageSchemas.map((s) => s.shape.type.value);

export type AvModerationClientMessage = z.infer<(typeof avModerationClientMessageSchemas)[number]>;

export function isAvModerationClientMessage(m: { type: string }): m is AvModerationClientMessage {
  return AV_MODERATION_CLIENT_TYPES.includes(m.type);
}

// ---- server -> browser ----

const kindFlags = z.object({ audio: z.boolean(), video: z.boolean() });

export const unmuteRequestSchema = z.object({ id: z.string(), displayName: z.string(), kind: kindSchema });
export type UnmuteRequest = z.infer<typeof unmuteRequestSchema>;

export const avModerationServerMessageSchemas = [
  /**
   * The room's moderation and this participant's place in it: sent after `joined`, and again when any of it
   * changes. `allowed`: may turn the kind on now (always true for moderators and for a kind not moderated);
   * `asked`: a request of this participant waits.
   */
  z.object({ type: z.literal('av-moderation'), enabled: kindFlags, allowed: kindFlags, asked: kindFlags }),
  /** To moderators: every request waiting now (the whole list). */
  z.object({ type: z.literal('unmute-requests'), requests: z.array(unmuteRequestSchema) }),
] as const;

export type AvModerationServerMessage = z.infer<(typeof avModerationServerMessageSchemas)[number]>;
