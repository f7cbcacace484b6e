// SIP dial-out ("Invite by phone", issue 15): a moderator asks the gateway to call a phone number or SIP address
// into the meeting. Browser -> signal: `invite-by-phone`, `cancel-phone-invite` (moderators only, refused for
// everyone else); signal -> browser: `phone-invite` with the call's state and, when it failed, the plain reason.
// Signal -> sip over the bus: `sip.dial` (answered when the call is answered or failed, so it may take a minute)
// and `sip.dial-cancel`. Spread into the access unions of access-messages.ts; the calls are in bus-calls.ts.
import { z } from 'zod';

/** Characters of a number or SIP address a moderator may dial. */
export const MAX_PHONE_TARGET = 256;
/** Digits a phone number may have (with +, * and #). */
export const MAX_PHONE_DIGITS = 32;

/**
 * A phone number (digits, +, * and #; spaces, dashes, dots and parentheses are dropped) or a sip:/sips: URI of a
 * user at a host, without display name, brackets, spaces or control characters.
 */
export const phoneTargetSchema = z
  .string()
  .max(MAX_PHONE_TARGET, `at most ${MAX_PHONE_TARGET} characters`)
  .transform((s) => (/^\s*sips?:/i.test(s) ? s.trim() : s.replace(/[\s\-.()]/g, '')))
  .pipe(
    z
      .string()
      .min(1, 'enter a phone number or a SIP address')
      .refine(
        (s) =>
          new RegExp(`^\\+?[0-9*#]{1,${MAX_PHONE_DIGITS}}$`).test(s) ||
          /^sips?:[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?(;[A-Za-z0-9\-_.=]{1,64}){0,8}$/i.test(s),
        'a phone number is digits, +, * and #; a SIP address is sip:user@host',
      ),
  );

const dialId = z.string().regex(/^dial-[0-9a-f]{16}$/);

export const DIAL_OUT_FAILURES = ['busy', 'not-found', 'no-answer', 'declined', 'cancelled', 'unauthorized', 'failed'] as const;
export const dialOutFailureSchema = z.enum(DIAL_OUT_FAILURES);
/** Why a call did not happen, in plain words: busy (486, 600), not-found (404, 604), no-answer (408, 480, timeout), declined (603) ... */
export type DialOutFailure = z.infer<typeof dialOutFailureSchema>;

// ---- browser -> server (moderators only) ----
export const dialOutClientMessageSchemas = [
  z.object({ type: z.literal('invite-by-phone'), target: phoneTargetSchema }),
  /** Gives up on a call not answered yet (CANCEL). */
  z.object({ type: z.literal('cancel-phone-invite'), id: dialId }),
] as const;

// ---- server -> browser (the moderator who asked) ----
export const dialOutServerMessageSchemas = [
  z.object({
    type: z.literal('phone-invite'),
    id: z.string(),
    target: z.string(),
    state: z.enum(['calling', 'answered', 'failed']),
    reason: dialOutFailureSchema.optional(),
  }),
] as const;

export type DialOutErrorCode =
  /** No SIP trunk (sipTrunkUri) or no sip part runs. */
  | 'dial-out-unavailable'
  /** Too many phone invitations at once in this room. */
  | 'dial-out-limit'
  /** The moderator neither signed in nor brought a token, and sipDialOutAnonymous is off. */
  | 'dial-out-sign-in';

// ---- signal -> sip (bus) ----
export const dialOutSubjects = {
  dial: 'sip.dial',
  cancel: 'sip.dial-cancel',
} as const;

export const sipDialSchema = z.strictObject({
  dialId,
  room: z.string().min(1).max(128),
  target: phoneTargetSchema,
  /** Who asked (a display name, for the gateway's log). */
  by: z.string().max(256),
});
export const sipDialReplySchema = z.strictObject({
  answered: z.boolean(),
  reason: dialOutFailureSchema.optional(),
  /** The final SIP status when it failed on one. */
  status: z.number().int().min(100).max(699).optional(),
});
export const sipDialCancelSchema = z.strictObject({ dialId });
