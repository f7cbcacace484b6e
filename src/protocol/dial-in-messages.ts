// Dial-in by PIN (issue 15): what signal, the sip part and the web app share. Signal owns the room <-> PIN store
// (src/signal/dial-in-pins.ts) and answers the sip part's `signal.pin-lookup` over the bus, and the web app's
// Jitsi-compatible HTTP APIs `/conferenceMapper` and `/phoneNumberList` (src/signal/dial-in-http.ts).
import { z } from 'zod';

/** A room's PIN: 9 digits, never starting with 0 (Jitsi's are 6 to 10; the phone types it, then '#'). */
export const PIN_DIGITS = 9;
/** What a caller typed and the lookup is asked for: digits only (a wrong length simply finds nothing). */
export const pinSchema = z.string().regex(/^\d{1,20}$/, 'a PIN is 1 to 20 digits');

export const dialInSubjects = {
  /** sip -> signal (request): the room of a PIN a caller typed. */
  pinLookup: 'signal.pin-lookup',
} as const;

export const pinLookupSchema = z.object({ pin: pinSchema });
/** The room's canonical name (roomKey): the room a caller with this PIN joins. */
export const pinLookupReplySchema = z.object({ room: z.string().min(1).max(128) });

/**
 * Dial-in numbers as an admin configures them (`sipDialInNumbers`): a country code or label ("US", "Spain
 * (toll free)") to the numbers callers dial there. Answered as is by `/phoneNumberList` (Jitsi's `numbers`).
 */
export const dialInNumbersSchema = z
  .record(z.string().trim().min(1).max(64), z.array(z.string().trim().regex(/^\+?[0-9][0-9 ()./-]{2,30}$/, 'a phone number is digits, spaces, ( ) . / - and a leading +')).min(1).max(20), {
    error: (i) => (i.input === undefined || typeof i.input === 'object' ? undefined : 'dial-in numbers are JSON: {"US": ["+1 555 0100"], "ES": ["+34 910 000 000"]}'),
  })
  .refine((m) => Object.keys(m).length <= 100, 'at most 100 countries or labels');
export type DialInNumbers = z.infer<typeof dialInNumbersSchema>;

/** `/phoneNumberList`, Jitsi's older (object) form that jitsi-meet still reads. */
export const phoneNumberListSchema = z.object({
  message: z.string(),
  numbers: z.record(z.string(), z.array(z.string())),
  numbersEnabled: z.boolean(),
});
export type PhoneNumberList = z.infer<typeof phoneNumberListSchema>;

/** `/conferenceMapper`: `conference` is `<room>@conference.<domain>`, or false when no room has that id. */
export const conferenceMappingSchema = z.object({
  message: z.string(),
  id: z.union([z.number(), z.literal(false)]),
  conference: z.union([z.string(), z.literal(false)]),
});
export type ConferenceMapping = z.infer<typeof conferenceMappingSchema>;

/** "123 456 789": Jitsi's grouping of a PIN in three, for people to read. */
export function formatPin(pin: string | number): string {
  const s = String(pin);
  const part = Math.ceil(s.length / 3);
  return [s.slice(0, part), s.slice(part, 2 * part), s.slice(2 * part)].filter(Boolean).join(' ');
}
