// What focus and the bridges say over the bus for one participant's browser or for one room, passed on to the
// sockets here: focus's offers (`signal.offer`), who plays on a browser's receive slots (`bridge.slot-map`), the
// layers its camera should send (`bridge.send-layers`), the cameras its bandwidth leaves out
// (`bridge.video-suspended`), and a room's dominant speaker. Each payload is parsed at this boundary (a malformed
// one is dropped, with a warning for the per-participant words); a word for a participant who is gone, or for a
// media session it left (a failover, a drain), is dropped.
import type { ZodType } from 'zod';
import type { Bus } from '../bus/bus.ts';
import {
  bridgeDominantSpeakerSchema,
  bridgeSendLayersSchema,
  bridgeSlotMapSchema,
  bridgeVideoSuspendedSchema,
  signalOfferSchema,
  subjects,
} from '../protocol/bus-messages.ts';
import type { Member, Rooms } from './rooms.ts';

export class MediaWords {
  private readonly rooms: Rooms;

  constructor(rooms: Rooms) {
    this.rooms = rooms;
  }

  /** Passes on every word heard on `bus` from now; returns what stops it. A word that fails is logged, never thrown. */
  listen(bus: Bus): () => void {
    const words: Array<[string, (payload: unknown) => void, string]> = [
      [subjects.signalOffer, (p) => this.offer(p), 'offer'],
      [subjects.bridgeSlotMap, (p) => this.slotMap(p), 'slot map'],
      [subjects.bridgeSendLayers, (p) => this.sendLayers(p), 'send-layers'],
      [subjects.bridgeVideoSuspended, (p) => this.videoSuspended(p), 'suspended cameras'],
      [subjects.bridgeDominantSpeaker, (p) => this.dominantSpeaker(p), 'dominant speaker'],
    ];
    const stops = words.map(([subject, deliver, what]) =>
      bus.subscribe(subject, (payload) => {
        try {
          deliver(payload);
        } catch (e) {
          this.rooms.log.error({ err: (e as Error).message }, `${what} delivery failed`);
        }
      }),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** A `signal.offer` event from focus: forwarded to that participant's socket when it is still here. */
  offer(payload: unknown): void {
    const parsed = signalOfferSchema.safeParse(payload);
    if (!parsed.success) {
      this.rooms.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.offer');
      return;
    }
    const { conferenceId, participantId, sdp, version, sources, slots, bridgeId, session } = parsed.data;
    const member = this.rooms.rooms.get(conferenceId)?.members.get(participantId);
    if (!member) {
      this.rooms.log.debug({ room: conferenceId, participant: participantId }, 'offer for a participant who is gone');
      return;
    }
    member.session.offerVersion = Math.max(member.session.offerVersion ?? 0, version);
    member.session.receiveSlots = slots === true;
    member.session.mediaBridgeId = bridgeId;
    member.session.mediaSession = session;
    member.session.send(
      slots === true ? { type: 'offer', sdp, version, sources, slots, session: session ?? '' } : { type: 'offer', sdp, version, sources },
    );
  }

  /**
   * A `bridge.slot-map` event: who plays on that participant's receive slots, to its socket when it is here, its
   * session is on slots and on that bridge (focus's last offer says which): a late map from a bridge it left (a
   * failover, a drain) is dropped. Sent tagged with the session; the browser applies only newer versions of it.
   */
  slotMap(payload: unknown): void {
    const parsed = bridgeSlotMapSchema.safeParse(payload);
    if (!parsed.success) {
      this.rooms.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed bridge.slot-map');
      return;
    }
    const { bridgeId, conferenceId, endpointId, session, version, slots } = parsed.data;
    const member = this.rooms.rooms.get(conferenceId)?.members.get(endpointId);
    if (!member) return;
    const { receiveSlots, mediaBridgeId, mediaSession } = member.session;
    // (a map that names its session must name this one: a late map of an endpoint it left on the same bridge)
    if (receiveSlots !== true || mediaBridgeId !== bridgeId || mediaSession === undefined || (session !== undefined && session !== mediaSession)) {
      this.rooms.log.debug({ room: conferenceId, participant: endpointId, bridge: bridgeId, current: mediaBridgeId ?? null }, 'dropped a slot map of another media session');
      return;
    }
    member.session.send({ type: 'slot-map', session: mediaSession, version, sources: slots });
  }

  /**
   * A `bridge.send-layers` event: the layers of that participant's camera somebody needs, to its socket when it is
   * here and its media is on that bridge in that media session (a late word from a bridge, or an endpoint on the same
   * bridge, it left is dropped).
   */
  sendLayers(payload: unknown): void {
    const word = this.parsed(bridgeSendLayersSchema, payload, 'bridge.send-layers');
    if (word) this.mediaMember(word)?.session.send({ type: 'send-layers', rids: word.rids });
  }

  /** A `bridge.video-suspended` event: the cameras that participant's bandwidth leaves out, under the same rule. */
  videoSuspended(payload: unknown): void {
    const word = this.parsed(bridgeVideoSuspendedSchema, payload, 'bridge.video-suspended');
    if (word) this.mediaMember(word)?.session.send({ type: 'video-suspended', participantIds: word.participantIds });
  }

  /** `payload` as `schema` says, or undefined (dropped with a warning naming `subject`). */
  private parsed<T>(schema: ZodType<T>, payload: unknown, subject: string): T | undefined {
    const r = schema.safeParse(payload);
    if (r.success) return r.data;
    this.rooms.log.warn({ err: r.error.issues[0]?.message }, `dropped a malformed ${subject}`);
    return undefined;
  }

  /** The member a bridge's word is for: here, its media on that bridge, in the media session the word names (if any). */
  private mediaMember(word: { bridgeId: string; conferenceId: string; endpointId: string; session?: string }): Member | undefined {
    const member = this.rooms.rooms.get(word.conferenceId)?.members.get(word.endpointId);
    if (!member || member.session.mediaBridgeId !== word.bridgeId) return undefined;
    if (word.session !== undefined && word.session !== member.session.mediaSession) return undefined;
    return member;
  }

  /**
   * A `bridge.dominant-speaker` event: tells the room who speaks, or that the speaker went silent (malformed ones
   * and rooms not here are dropped). A speaker this instance does not know yet (a member of another instance whose
   * stand-in has not arrived) is kept as the room's speaker all the same (speaker stats count from their arrival).
   */
  dominantSpeaker(payload: unknown): void {
    const parsed = bridgeDominantSpeakerSchema.safeParse(payload);
    if (!parsed.success) return;
    const room = this.rooms.rooms.get(parsed.data.conferenceId);
    if (!room) return;
    const speaker = parsed.data.endpointId;
    const silent = parsed.data.silent === true;
    // every bridge of a conference that spans several judges from the same audio: the same word comes from each
    if (room.dominantSpeaker === speaker) {
      if ((room.dominantSilent === true) === silent) return;
      room.dominantSilent = silent;
      this.rooms.onSpeakerSilence?.(room);
      return;
    }
    room.dominantSpeaker = speaker;
    room.dominantSilent = silent;
    if (room.members.has(speaker)) this.rooms.broadcast(room, { type: 'dominant-speaker', participantId: speaker });
    this.rooms.onSpeaker?.(room);
  }
}
