// A participant that is not a browser (a file played by `tertulia play`, a phone call through the SIP gateway):
// it joins the room like one (caps, roster, moderation) and sends its streams over plain RTP to the bridge:
// comedia (the bridge learns the sender's address from its first packet), rtcp-mux, SRTP keyed by SDES. One
// path for both, here; leaving is `rooms.leave(session, ...)` as for anyone.
import type { Bus } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import type { FocusAttachPlainReply } from '../protocol/bus-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { Member, Rooms, Session } from './rooms.ts';

const FOCUS_TIMEOUT_MS = 15_000;

export interface PlainJoin {
  room: string;
  displayName: string;
  /** What it sends, each with its SSRC. */
  ssrcs: Partial<Record<MediaKind, number>>;
  audioMuted?: boolean;
  phone?: boolean;
}

export interface PlainParticipant {
  member: Member;
  /** Where to send (the bridge's address and legs) and the SRTP key to encrypt with (`srtp.remoteKey`). */
  attached: FocusAttachPlainReply & { srtp: NonNullable<FocusAttachPlainReply['srtp']> };
}

/** Joins `session` to the room and attaches its media; rejects (having left again) with the reason. */
export async function joinPlainParticipant(rooms: Rooms, bus: Bus, session: Session, req: PlainJoin): Promise<PlainParticipant> {
  const kinds = (Object.keys(req.ssrcs) as MediaKind[]).sort();
  let attached: FocusAttachPlainReply | undefined;
  const msg = { type: 'join' as const, room: req.room, displayName: req.displayName, audioMuted: req.audioMuted ?? false, videoMuted: !kinds.includes('video') };
  const grant = { role: 'participant' as const, authenticated: false, ...(req.phone ? { phone: true } : {}) };
  const member = await rooms.joinPlain(
    session,
    msg,
    async (conferenceId, participantId) => {
      const request = {
        conferenceId,
        endpointId: participantId,
        legs: kinds.map((kind) => ({ kind })),
        rtcpMux: true,
        comedia: true,
        srtp: true,
        sources: kinds.map((kind) => ({ kind, ssrc: req.ssrcs[kind]! })),
      };
      attached = await callBus(bus, busCalls.focusAttachPlain, '', request, FOCUS_ATTACH_TIMEOUT_MS);
      // focus learns the initial mute state as for a browser
      if (msg.audioMuted) await callBus(bus, busCalls.focusMute, '', { conferenceId, participantId, kind: 'audio', muted: true }, FOCUS_TIMEOUT_MS);
    },
    grant,
  );
  if (!attached?.srtp) {
    rooms.leave(session, 'no SRTP key from the bridge');
    throw new Error('the bridge gave no SRTP key');
  }
  return { member, attached: { ...attached, srtp: attached.srtp } };
}
