// End-to-end encryption (issue 20, Jitsi's "Enable end-to-end encryption"): the WebSocket messages. A moderator turns
// it on or off for the room; the server tells everyone (`e2ee-state`) and refuses what cannot decrypt (recording,
// live streaming, phone callers). Keys never pass through the server in the clear: browsers agree on pairwise
// keys (ECDH) and send each other their media keys through `e2ee-relay`, whose `data` the server relays unread
// to one member of the same room (size-capped, rate-limited). What `data` holds is the browsers' business:
// `e2eeRelayDataSchema` below, parsed by the receiving browser (src/web/media/e2ee/).
// Spread into the unions of signal-messages.ts; the web app parses the server's side with `e2eeServerMessageSchemas`.
import { z } from 'zod';

/** The longest relayed payload (base64url text): a public key or a wrapped media key fits many times over. */
export const MAX_E2EE_RELAY_CHARS = 2048;
/** Participants a room may have while E2EE is turned on: every key change costs each of them a message per peer. */
export const MAX_E2EE_PARTICIPANTS = 20;

const memberId = z.string().min(1).max(64);

// ---- browser -> server ----

export const e2eeClientMessageSchemas = [
  /** Moderators: turn end-to-end encryption on or off for the room. */
  z.object({ type: z.literal('set-e2ee'), enabled: z.boolean() }),
  /** To one participant of the same room: opaque to the server. */
  z.object({ type: z.literal('e2ee-relay'), to: memberId, data: z.string().min(1).max(MAX_E2EE_RELAY_CHARS) }),
] as const;

export const E2EE_CLIENT_TYPES: readonly string[] = e2eeClientMessageSchemas.map((s) => s.shape.type.value);

export type E2eeClientMessage = z.infer<(typeof e2eeClientMessageSchemas)[number]>;

export function isE2eeClientMessage(m: { type: string }): m is E2eeClientMessage {
  return E2EE_CLIENT_TYPES.includes(m.type);
}

// ---- server -> browser ----

export const e2eeServerMessageSchemas = [
  /** The room's setting: sent after `joined` and to everyone when it changes (`by`: who changed it). */
  z.object({ type: z.literal('e2ee-state'), enabled: z.boolean(), by: z.string().max(200).optional() }),
  /** What another participant's browser sent to this one with `e2ee-relay`. */
  z.object({ type: z.literal('e2ee-relay'), from: memberId, data: z.string().min(1).max(MAX_E2EE_RELAY_CHARS) }),
] as const;

export type E2eeServerMessage = z.infer<(typeof e2eeServerMessageSchemas)[number]>;

/** e2ee-on: refused because E2EE is on; e2ee-refused: E2EE cannot be turned on now (the message says why). */
export type E2eeErrorCode = 'e2ee-on' | 'e2ee-refused' | 'e2ee-too-many';

// ---- browser <-> browser (inside `data`, JSON) ----

const b64 = (max: number) => z.string().regex(/^[A-Za-z0-9_-]+$/).max(max);

export const e2eeRelayDataSchema = z.discriminatedUnion('kind', [
  /**
   * This browser's ECDH public key (P-256, raw, base64url) for this meeting, or `supported: false` when it
   * cannot encrypt media. Sent to every participant when E2EE is on (and answered once by a browser that had not
   * sent its own to the sender yet).
   */
  z.object({ kind: z.literal('hello'), supported: z.boolean(), publicKey: b64(200).optional(), reply: z.boolean().optional() }),
  /**
   * The sender's media key, AES-GCM-encrypted under the pair's shared key: `keyId` names it in every frame's
   * trailer, `ratchet` how many times it was ratcheted forward since.
   */
  z.object({ kind: z.literal('key'), keyId: z.number().int().min(0).max(0xffffffff), ratchet: z.number().int().min(0).max(255), iv: b64(32), wrapped: b64(200) }),
]);
export type E2eeRelayData = z.infer<typeof e2eeRelayDataSchema>;
