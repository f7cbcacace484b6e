// Between the SIP gateway (the `sip` part, any process) and signal: a phone call as a participant of a room.
// The gateway asks signal to put a caller in a room (`signal.phone-join`: signal makes the participant and
// attaches its plain-RTP audio at focus, as `tertulia play` does) and to take it out (`signal.phone-leave`);
// the caller's own *6 is `signal.phone-mute`. Signal tells the gateway what a moderator did to one of its
// callers on `sip.<gatewayId>.phone` (removed: hang up; muted: stop sending). The gateway renews its callers
// every PHONE_ALIVE_INTERVAL_MS (`signal.phone-alive`); signal takes out the callers of a gateway silent for
// PHONE_LEASE_MS (its process died) and answers `removed` for callers it does not know (signal restarted).
import { z } from 'zod';
import { MAX_DISPLAY_NAME, stripInvisible } from './display-name.ts';
import { roomNameSchema } from './signal-messages.ts';

export const PHONE_ALIVE_INTERVAL_MS = 5000;
export const PHONE_LEASE_MS = 20_000;
/** Callers one gateway may have in meetings at once (the dialogs' cap). */
export const MAX_PHONES_PER_GATEWAY = 2000;

export const phoneSubjects = {
  join: 'signal.phone-join',
  leave: 'signal.phone-leave',
  mute: 'signal.phone-mute',
  alive: 'signal.phone-alive',
  /** signal -> one gateway (event). */
  event: (gatewayId: string) => `sip.${gatewayId}.phone`,
};

const id = z.string().min(1).max(128);
/** A gateway's id goes into a bus subject. */
export const gatewayIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a gateway id is letters, digits, - and _ (at most 64)');
const ssrc = z.number().int().min(1).max(0xffffffff);

export const phoneJoinSchema = z
  .object({
    gatewayId: gatewayIdSchema,
    room: roomNameSchema,
    /** The caller's number as the trunk gave it (From's user part); only its last digits are shown. */
    callerId: z.string().max(64).optional(),
    /** The name the trunk gave (From's display name), shown instead of the masked number. */
    callerName: z.string().max(256).optional(),
    /** The SSRC the gateway sends the caller's voice with. */
    ssrc,
  })
  .strict();
export type PhoneJoin = z.infer<typeof phoneJoinSchema>;
export const phoneJoinReplySchema = z.object({
  conferenceId: id,
  participantId: id,
  displayName: z.string().max(MAX_DISPLAY_NAME),
  /** Joined muted (a moderator turned self-unmute off). */
  audioMuted: z.boolean(),
  /** Where the bridge receives the caller's voice (SRTP, rtcp-mux) and the key (base64) to encrypt it with. */
  address: z.string(),
  port: z.number().int().min(1).max(65535),
  srtpKey: z.string(),
});
export type PhoneJoinReply = z.infer<typeof phoneJoinReplySchema>;
export const phoneLeaveSchema = z.object({ conferenceId: id, participantId: id, reason: z.string().max(200) }).strict();
export const phoneMuteSchema = z.object({ conferenceId: id, participantId: id, muted: z.boolean() }).strict();
export const phoneMuteReplySchema = z.object({ muted: z.boolean() });

export const phoneAliveSchema = z
  .object({
    gatewayId: gatewayIdSchema,
    phones: z.array(z.object({ conferenceId: id, participantId: id }).strict()).max(MAX_PHONES_PER_GATEWAY),
  })
  .strict();
export type PhoneAlive = z.infer<typeof phoneAliveSchema>;

/** What happened to a caller in the meeting (signal -> its gateway). */
export const phoneEventSchema = z.discriminatedUnion('type', [
  /** Removed by a moderator, the meeting ended, or signal does not know it (any more): hang up. */
  z.object({ type: z.literal('removed'), participantId: id, reason: z.string().max(200) }),
  /** Muted or unmuted (a moderator, or the caller's own *6 as signal applied it). */
  z.object({ type: z.literal('muted'), participantId: id, muted: z.boolean() }),
]);
export type PhoneEvent = z.infer<typeof phoneEventSchema>;

/** The trunk's name for the caller, else "Phone …1234" (the caller id's last four digits), else "Phone". */
export function phoneDisplayName(callerId: string | undefined, callerName: string | undefined): string {
  const name = stripInvisible(callerName ?? '').replace(/["<>]/g, '').trim().slice(0, MAX_DISPLAY_NAME);
  // a trunk often gives the number as the name: it is masked like one
  const nameIsNumber = /^[+\d\s().-]*$/.test(name);
  if (name && !nameIsNumber) return name;
  const digits = (callerId || name).replace(/\D/g, '');
  return digits.length > 0 ? `Phone …${digits.slice(-4)}` : 'Phone';
}
