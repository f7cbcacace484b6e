// Peer-to-peer for two (issue 20) in the browser <-> signal protocol, as Jitsi's P2P mode: with exactly two
// browsers in a room, the server starts a P2P session between them (`p2p-start`, one of them the offerer, so no
// glare); the browsers exchange their session descriptions and ICE candidates through the server
// (`p2p-signal`, checked here and relayed only between the two members of that session) and keep their bridge
// connection up. A third participant, a phone caller, a recording or a failed P2P connection ends the session
// (`p2p-stop`): both go back to the bridge. The server never reads the SDP; it only checks its shape and size.
import { z } from 'zod';

/** A P2P session's id (the server makes it; signals of an older session are dropped). */
export const p2pSessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,32}$/, 'a P2P session id is 8..32 base64url characters');

/** The largest session description relayed (a browser's two-m-line offer is a few kilobytes). */
export const MAX_P2P_SDP = 32_000;
/** The longest ICE candidate line relayed. */
export const MAX_P2P_CANDIDATE = 1024;

export const p2pSignalSchema = z.discriminatedUnion('kind', [
  /** An offer (from the offerer) or its answer. */
  z.object({ kind: z.literal('description'), type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(MAX_P2P_SDP) }),
  /** A trickled ICE candidate (an empty `candidate`: the end of candidates). */
  z.object({
    kind: z.literal('candidate'),
    candidate: z.string().max(MAX_P2P_CANDIDATE),
    sdpMid: z.string().max(16).nullable(),
    sdpMLineIndex: z.number().int().min(0).max(15).nullable(),
    usernameFragment: z.string().max(256).nullable().optional(),
  }),
  /** The sender shows the P2P media now: the receiver may stop sending to the bridge. */
  z.object({ kind: z.literal('rendering') }),
]);
export type P2pSignal = z.infer<typeof p2pSignalSchema>;

// ---- browser -> server ----
export const p2pClientMessageSchemas = [
  /** Relayed to the other member of the P2P session (dropped when that session is over). */
  z.object({ type: z.literal('p2p-signal'), session: p2pSessionIdSchema, signal: p2pSignalSchema }),
  /** This browser's P2P connection failed (or never connected): the room stays on the bridge. */
  z.object({ type: z.literal('p2p-failed'), session: p2pSessionIdSchema }),
] as const;

export const P2P_CLIENT_TYPES = ['p2p-signal', 'p2p-failed'] as const;
export type P2pClientMessage = z.infer<(typeof p2pClientMessageSchemas)[number]>;
const P2P_TYPE_SET: ReadonlySet<string> = new Set(P2P_CLIENT_TYPES);

export function isP2pClientMessage(m: { type: string }): m is P2pClientMessage {
  return P2P_TYPE_SET.has(m.type);
}

// ---- server -> browser ----
export const p2pServerMessageSchemas = [
  /** Start a P2P connection to `peerId`; the `offerer` creates the offer, the other answers. */
  z.object({ type: z.literal('p2p-start'), session: p2pSessionIdSchema, peerId: z.string().min(1).max(64), offerer: z.boolean() }),
  /** The session is over: send to the bridge and show its media again, then close the P2P connection. */
  z.object({ type: z.literal('p2p-stop'), session: p2pSessionIdSchema }),
  /** A signal from the peer of the session. */
  z.object({ type: z.literal('p2p-signal'), session: p2pSessionIdSchema, from: z.string().min(1).max(64), signal: p2pSignalSchema }),
] as const;
export type P2pServerMessage = z.infer<(typeof p2pServerMessageSchemas)[number]>;
