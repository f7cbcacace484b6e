// "Follow me" (as Jitsi Meet's "Everyone follows me"): a moderator's layout — tile or speaker view, and the tile
// pinned large — is applied on everyone else's page while it is on. Part of the browser <-> signal protocol
// (meeting-messages.ts includes these schemas).
import { z } from 'zod';

export const FOLLOW_ME_VIEWS = ['tile', 'speaker'] as const;
export type FollowMeView = (typeof FOLLOW_ME_VIEWS)[number];

/** A tile's key: a participant's id, or it followed by `:screen` (their shared screen). */
export const tileKeySchema = z.string().min(1).max(80);

/** What the leader shows: the view and the pinned tile (null: none; tile view may keep a pin for speaker view). */
export const followMeLayoutSchema = z.object({ view: z.enum(FOLLOW_ME_VIEWS), pinned: tileKeySchema.nullable() });
export type FollowMeLayout = z.infer<typeof followMeLayoutSchema>;

// ---- browser -> server ----
export const followMeClientMessageSchemas = [
  /**
   * Moderators: everyone follows me (`enabled`, with the layout this page shows), or nobody follows anyone any more
   * (whoever leads).
   */
  z.object({ type: z.literal('set-follow-me'), enabled: z.boolean(), layout: followMeLayoutSchema.optional() }),
  /** The leader's layout, at each change (from anyone else it is ignored: follow me may have just ended). */
  z.object({ type: z.literal('follow-me-layout'), layout: followMeLayoutSchema }),
] as const;

export const FOLLOW_ME_CLIENT_TYPES = ['set-follow-me', 'follow-me-layout'] as const;

// ---- server -> browser ----
export const followMeServerMessageSchemas = [
  /**
   * Follow me as it is now: to everyone when it starts, ends or the leader's layout changes, and to a joiner while
   * it is on. `leader` is the participant followed (absent: nobody is followed).
   */
  z.object({ type: z.literal('follow-me'), leader: z.string().optional(), layout: followMeLayoutSchema.optional() }),
] as const;

export type FollowMeServerMessage = { type: 'follow-me'; leader?: string; layout?: FollowMeLayout };
