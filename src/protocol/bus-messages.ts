// Messages between signal, focus and bridge, carried by the bus (in memory in one process, NATS between
// machines). Every handler parses what it receives with these schemas.
import { z } from 'zod';
import { MAX_RECEIVE_SLOTS, MAX_SUSPENDED_VIDEOS, MAX_TILE_PIXELS, MAX_VIDEO_CONSTRAINT_TILES, mediaKindSchema, receiveMaxHeightSchema, ridSchema, tileSizesSchema } from './signal-messages.ts';

export const subjects = {
  // signal -> focus (requests)
  focusJoin: 'focus.join',
  focusAnswer: 'focus.answer',
  focusLeave: 'focus.leave',
  focusMute: 'focus.mute',
  /** The browser changed what it sends (screen share on/off): focus sends it a fresh offer. */
  focusRenegotiate: 'focus.renegotiate',
  /** The sizes at which a participant's browser shows the remote videos (its latest whole set). */
  focusConstraints: 'focus.constraints',
  /**
   * A plain-RTP endpoint joins a conference: a receiver of one participant's audio and camera (a recorder, a
   * tap), or a sender of its own streams (a file played into the meeting, a phone call), or both.
   */
  focusAttachPlain: 'focus.attach-plain',
  /** A plain-RTP receiver attached with `receiveFrom.deferred` starts receiving (it listens now). */
  focusStartPlain: 'focus.start-plain',
  /** A plain-RTP receiver leaves (a sender that is a participant leaves with focus.leave). */
  focusDetachPlain: 'focus.detach-plain',
  /** How large a plain-RTP receiver (a composed recording) draws each video it receives: its simulcast layers. */
  focusPlainConstraints: 'focus.plain-constraints',
  // focus -> a receiver of the whole conference (event): every source it now receives, on each change
  plainSources: (endpointId: string) => `plain.${endpointId}.sources`,
  /**
   * focus -> a plain-RTP endpoint's owner (event): its bridge went away and it was made again on another one
   * (new address, ports, SRTP keys); a receiver gets nothing until it calls focus.start-plain with the new key set.
   */
  plainMoved: (endpointId: string) => `plain.${endpointId}.moved`,
  // focus -> signal (events)
  signalOffer: 'signal.offer',
  // focus -> bridge (requests); the bridge id is part of the subject
  bridgeAllocate: (bridgeId: string) => `bridge.${bridgeId}.allocate`,
  /** A plain-RTP endpoint (ffmpeg, GStreamer, a SIP leg): sockets of its own, no ICE/DTLS. */
  bridgeAllocatePlain: (bridgeId: string) => `bridge.${bridgeId}.allocate-plain`,
  /** One end of a relay between two bridges of a conference (focus/relays.ts). */
  bridgeAllocateRelay: (bridgeId: string) => `bridge.${bridgeId}.allocate-relay`,
  /** What a plain-RTP or relay endpoint sends (a relay: the far bridge's participants' sources). */
  bridgeSetSources: (bridgeId: string) => `bridge.${bridgeId}.set-sources`,
  bridgeConfigure: (bridgeId: string) => `bridge.${bridgeId}.configure`,
  bridgeSubscribe: (bridgeId: string) => `bridge.${bridgeId}.subscribe`,
  bridgeConstraints: (bridgeId: string) => `bridge.${bridgeId}.constraints`,
  bridgeMute: (bridgeId: string) => `bridge.${bridgeId}.mute`,
  bridgeExpire: (bridgeId: string) => `bridge.${bridgeId}.expire`,
  /** Are you alive? Asked by focus before it counts a bridge whose heartbeats stopped as dead. */
  bridgePing: (bridgeId: string) => `bridge.${bridgeId}.ping`,
  // focus -> bridges (event): "announce yourselves now" (a focus that just started need not wait 5 s)
  bridgeDiscover: 'bridge.discover',
  /** Someone opened a room's join screen: bridges with media workers on demand start them (payload unused). */
  bridgeWarm: 'bridge.warm',
  // bridge -> focus (events)
  bridgeAnnounce: 'bridge.announce',
  bridgeEvent: 'bridge.event',
  // bridge -> signal (event): a conference's dominant speaker changed (from RFC 6464 audio levels)
  bridgeDominantSpeaker: 'bridge.dominant-speaker',
  // bridge -> signal (event): who plays on which receive slot of a browser in slot mode
  bridgeSlotMap: 'bridge.slot-map',
  // bridge -> signal (event): the simulcast layers of a browser's camera that anyone needs (the others pause)
  bridgeSendLayers: 'bridge.send-layers',
  // bridge -> signal (event): the cameras a receiver shows that its bandwidth leaves out (it shows them paused)
  bridgeVideoSuspended: 'bridge.video-suspended',
} as const;

const id = z.string().min(1).max(128);
/** A media session: the o= session id of focus's offers to a participant (new with each endpoint). */
const mediaSessionSchema = z.string().regex(/^[0-9]{1,20}$/);

// ---- signal -> focus ----
/** A region (the `region` setting, or what the load balancer's header says): letters, digits, -, _ and . */
export const regionSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a region is letters, digits, -, _ and . (at most 64)');
/** `region`: where the participant is (focus prefers a bridge of that region). */
export const focusJoinSchema = z.object({
  conferenceId: id,
  participantId: id,
  region: regionSchema.optional(),
  /**
   * Offers to this participant are numbered after this (default 0): a browser moved between rooms on one socket
   * (breakout rooms) never has an answer to its old room's offer taken for its new room's.
   */
  versionsAfter: z.number().int().nonnegative().max(2 ** 31).optional(),
});
/**
 * The error message focus.join (and a bridge's allocate) fails with when every bridge is at its endpoint cap
 * (maxEndpointsPerBridge): signal tells the browser `server-full`. An error's message crosses the bus as is.
 */
export const NO_BRIDGE_CAPACITY = 'no media bridge has room for another participant';
export const focusAnswerSchema = z.object({
  conferenceId: id,
  participantId: id,
  sdp: z.string().max(200_000),
  version: z.number().int().nonnegative(),
});
export const focusLeaveSchema = z.object({ conferenceId: id, participantId: id });
export const focusRenegotiateSchema = z.object({ conferenceId: id, participantId: id });
export const focusMuteSchema = z.object({ conferenceId: id, participantId: id, kind: mediaKindSchema, muted: z.boolean() });
/** `tiles` as the browser sent them (`receiver-video-constraints`): by participant and camera/screen. */
export const focusConstraintsSchema = z.object({ conferenceId: id, participantId: id, tiles: tileSizesSchema, maxHeight: receiveMaxHeightSchema.optional() });

// ---- focus -> signal ----
export const signalOfferSchema = z.object({
  conferenceId: id,
  participantId: id,
  sdp: z.string(),
  version: z.number().int().nonnegative(),
  sources: z.array(z.object({ mid: z.string(), participantId: id, kind: mediaKindSchema, role: z.enum(['video', 'screen']).optional() })),
  /** Slot mode: mids 3.. are fixed receive slots (`bridge.slot-map` says whose media plays on each). */
  slots: z.boolean().optional(),
  /**
   * The bridge the participant's endpoint is on now, and its media session there (the SDP's o= session id: new at
   * every new endpoint, a move to another bridge too). Signal passes on only that bridge's slot maps, tagged with
   * the session, so a late map from a bridge the participant left is never applied over its new one.
   */
  bridgeId: id.optional(),
  session: mediaSessionSchema.optional(),
});
export type SignalOffer = z.infer<typeof signalOfferSchema>;

// ---- focus -> bridge ----
export const bridgeAllocateSchema = z.object({ conferenceId: id, endpointId: id });
export const candidateSchema = z.object({
  foundation: z.string(),
  ip: z.string(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['udp', 'tcp']),
  priority: z.number().int(),
  type: z.literal('host'),
  tcpType: z.literal('passive').optional(),
});
export type Candidate = z.infer<typeof candidateSchema>;
export const fingerprintSchema = z.object({ algorithm: z.string(), value: z.string() });
export const bridgeAllocateReplySchema = z.object({
  ufrag: z.string(),
  pwd: z.string(),
  fingerprint: fingerprintSchema,
  candidates: z.array(candidateSchema),
});
export type BridgeAllocateReply = z.infer<typeof bridgeAllocateReplySchema>;

export const mediaSourceSchema = z.object({
  ssrc: z.number().int().min(0).max(0xffffffff),
  kind: mediaKindSchema,
  /** RTX (RFC 4588) SSRC paired with `ssrc`, when the sender negotiated one. */
  rtxSsrc: z.number().int().min(0).max(0xffffffff).optional(),
  /**
   * Video sent as rid simulcast: the layers' rids, lowest first. `ssrc`/`rtxSsrc` are then what receivers
   * see; the bridge learns each layer's SSRC from the rid header extension.
   */
  /** Video: a camera or a shared screen (a screen is never left out by last-N). */
  role: z.enum(['video', 'screen']).optional(),
  rids: z.array(ridSchema).min(1).max(4).optional(),
  /**
   * Simulcast: the SSRCs its layers cross a bridge-to-bridge relay with, one per rid (focus draws them). On
   * the sender's bridge they name what goes into a relay; on a relay endpoint the layers arrive with them.
   */
  relaySsrcs: z.array(z.number().int().min(1).max(0xffffffff)).min(1).max(4).optional(),
  /** A relay endpoint's source: the participant on the far bridge who sends it (dominant speaker, last-N). */
  participantId: id.optional(),
}).refine((s) => s.relaySsrcs === undefined || s.relaySsrcs.length === s.rids?.length, { message: 'relaySsrcs needs one SSRC per rid' });
export type MediaSource = z.infer<typeof mediaSourceSchema>;

const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'an IPv4 address');
const udpPort = z.number().int().min(1).max(65535);
export const plainLegSchema = z
  .object({
    /** What the leg (one SDP m-line) carries: audio, video, or both on one port (told apart by SSRC). */
    kind: z.enum(['audio', 'video', 'all']),
    /** Where the peer receives; omitted with comedia (learned from its first packet). */
    address: ipv4.optional(),
    port: udpPort.optional(),
    /** The peer's RTCP port without rtcp-mux (default port + 1). */
    rtcpPort: udpPort.optional(),
  })
  .strict()
  .refine((l) => (l.address === undefined) === (l.port === undefined), 'give both address and port, or neither');
/** What a plain-RTP transport is: its legs, rtcp-mux, comedia, SRTP (the same for focus's request and the bridge's). */
const plainTransportFields = {
  conferenceId: id,
  endpointId: id,
  legs: z.array(plainLegSchema).min(1).max(4),
  rtcpMux: z.boolean(),
  /** Learn the peer's address from its first packet (peers behind NAT, or ones that pick their own port). */
  comedia: z.boolean(),
  /** SRTP keyed by SDES (RFC 4568): the reply carries both keys. */
  srtp: z.boolean(),
};
/** A stream a plain-RTP peer sends (a fixed SSRC, no simulcast). */
const plainSourceSchema = z.object({ ssrc: z.number().int().min(1).max(0xffffffff), kind: mediaKindSchema }).strict();
export const bridgeAllocatePlainSchema = z
  .object({
    ...plainTransportFields,
    /** The streams the peer sends. */
    sources: z.array(plainSourceSchema).max(4),
  })
  .strict()
  .refine((p) => p.comedia || p.legs.every((l) => l.address !== undefined), 'without comedia every leg needs the peer address and port');
export type BridgeAllocatePlain = z.infer<typeof bridgeAllocatePlainSchema>;
export const bridgeAllocatePlainReplySchema = z.object({
  /** The address the bridge's plain ports are reached at (publicAddress, or the listen address). */
  address: z.string(),
  legs: z.array(z.object({ kind: z.enum(['audio', 'video', 'all']), port: udpPort, rtcpPort: udpPort })),
  rtcpMux: z.boolean(),
  srtp: z.object({ suite: z.literal('AES_CM_128_HMAC_SHA1_80'), localKey: z.string(), remoteKey: z.string() }).nullable(),
});
export type BridgeAllocatePlainReply = z.infer<typeof bridgeAllocatePlainReplySchema>;

export const focusAttachPlainSchema = z
  .object({
    /** endpointId: a participant's id when it sends (it is one of the meeting's participants). */
    ...plainTransportFields,
    /** What it sends: offered to every participant as this participant's microphone and camera. */
    sources: z.array(plainSourceSchema).max(2),
    /** Whose media it receives: that participant's microphone and/or camera (never a screen). */
    receiveFrom: z
      .object({
        participantId: id,
        kinds: z.array(mediaKindSchema).min(1).max(2),
        /**
         * Start sending only on focus.start-plain: the peer opens its ports after it has the SDP, and media sent
         * before would be lost (a video receiver's first keyframe with it).
         */
        deferred: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /**
     * Receive every participant's microphone, camera and screen, kept in sync as they come, change and go (a
     * recorder); focus publishes the set on `plain.<endpointId>.sources` at each change. Its legs: one audio,
     * one video (streams told apart by SSRC); with `kinds: ['audio']` only the microphones, on one audio leg (the
     * SIP gateway's room mix).
     */
    receiveAll: z.object({ deferred: z.boolean().optional(), kinds: z.array(mediaKindSchema).min(1).max(2).optional() }).strict().optional(),
  })
  .strict()
  .refine((p) => !(p.receiveFrom && p.receiveAll), 'receiveFrom or receiveAll, not both')
  .refine((p) => !p.receiveAll || /^[A-Za-z0-9_-]+$/.test(p.endpointId), 'a whole-conference receiver id is letters, digits, - and _ (it goes into a bus subject)');
export type FocusAttachPlain = z.infer<typeof focusAttachPlainSchema>;
/** One source a whole-conference receiver gets: whose, what, and the SSRC it arrives with. */
export const receivedSourceSchema = z
  .object({ participantId: id, kind: mediaKindSchema, role: z.enum(['video', 'screen']).optional(), ssrc: z.number().int().min(0).max(0xffffffff) })
  .strict();
export type ReceivedSource = z.infer<typeof receivedSourceSchema>;
export const plainSourcesSchema = z.object({
  conferenceId: id,
  endpointId: id,
  sources: z.array(receivedSourceSchema).max(4096),
  /** The conference ended (or focus stops): the endpoint is gone, nothing more will come. */
  ended: z.boolean().optional(),
});
export type PlainSources = z.infer<typeof plainSourcesSchema>;
export const focusAttachPlainReplySchema = bridgeAllocatePlainReplySchema.extend({
  /** The SSRCs it receives, one per kind asked for (receiveAll: every source now, as plain.<id>.sources has them). */
  receives: z.array(z.object({ kind: mediaKindSchema, ssrc: z.number().int(), participantId: id.optional(), role: z.enum(['video', 'screen']).optional() })),
  /**
   * The session description ffmpeg/ffplay/GStreamer open: for a receiver, where it receives (its own ports) and
   * the key to decrypt with; for a sender, the bridge's ports it sends to and the key to encrypt with.
   */
  sdp: z.string(),
});
export type FocusAttachPlainReply = z.infer<typeof focusAttachPlainReplySchema>;
/** The longest outage a `moved` reports (ms): a day; focus says no more than this. */
export const MAX_LOST_MS_AGO = 24 * 3600 * 1000;
/**
 * How long ago (ms) a moved endpoint's old one was lost: nothing it sent since was heard. A duration, not a time:
 * focus and the endpoint's owner may run on machines whose clocks differ.
 */
export const lostMsAgoSchema = z.number().int().min(0).max(MAX_LOST_MS_AGO);
/** A plain-RTP endpoint made again on another bridge (`plain.<endpointId>.moved`): where it is now, and its new keys. */
export const plainMovedSchema = bridgeAllocatePlainReplySchema.extend({
  conferenceId: id,
  endpointId: id,
  /** The new bridge's id (for logs). */
  bridgeId: id,
  /** The session description as focus.attach-plain's reply has it, with the new ports and key. */
  sdp: z.string(),
  /**
   * How long ago the old endpoint was lost: since a dead (or restarted) bridge's last heartbeat, or its expiry on a
   * draining one (which forwarded until then). A player goes on from the point it had reached then. Absent from an older focus.
   */
  lostMsAgo: lostMsAgoSchema.optional(),
});
export type PlainMoved = z.infer<typeof plainMovedSchema>;
export const focusStartPlainSchema = z.object({ conferenceId: id, endpointId: id });
export const focusDetachPlainSchema = z.object({ conferenceId: id, endpointId: id });

/** AES_CM_128_HMAC_SHA1_80 master key and salt, base64 (30 bytes), as SDES writes them. */
const srtpKeySchema = z.string().regex(/^[A-Za-z0-9+/]{40}$/, 'a base64 SRTP master key and salt (30 bytes)');
export const bridgeAllocateRelaySchema = z
  .object({
    conferenceId: id,
    endpointId: id,
    /** This bridge encrypts what it sends with this key; the far bridge with `receiveKey`. */
    sendKey: srtpKeySchema,
    receiveKey: srtpKeySchema,
    /** Where the far bridge listens; omitted: learned from its first packet that authenticates. */
    peer: z.object({ address: ipv4, port: udpPort }).strict().optional(),
  })
  .strict();
export const bridgeAllocateRelayReplySchema = z.object({ address: z.string(), port: udpPort });
/** The most sources a relay endpoint carries (the participants on the far bridge, up to three sources each). */
export const MAX_RELAY_SOURCES = 1024;
export const bridgeSetSourcesSchema = z.object({
  conferenceId: id,
  endpointId: id,
  sources: z.array(mediaSourceSchema).max(MAX_RELAY_SOURCES),
});

export const bridgeConfigureSchema = z.object({
  conferenceId: id,
  endpointId: id,
  remoteUfrag: z.string().max(256),
  remotePwd: z.string().max(256),
  remoteFingerprint: fingerprintSchema,
  /** The sources this endpoint sends (from its SDP answer). */
  sources: z.array(mediaSourceSchema).max(16),
});
export const bridgeSubscribeSchema = z.object({
  conferenceId: id,
  endpointId: id,
  /** Every source SSRC this endpoint now receives (the whole set, not a delta). */
  ssrcs: z.array(z.number().int().min(0).max(0xffffffff)).max(4096),
  /**
   * Slot mode: the endpoint receives on these fixed slots (as its SDP announced them) whichever of `ssrcs` the
   * bridge chooses; absent: each source on its own m-line under its own SSRC.
   */
  slots: z
    .array(
      z.object({
        mid: z.string().regex(/^[0-9]{1,4}$/),
        kind: mediaKindSchema,
        ssrc: z.number().int().min(1).max(0xffffffff),
        rtxSsrc: z.number().int().min(1).max(0xffffffff).optional(),
      }),
    )
    .max(MAX_RECEIVE_SLOTS)
    .optional(),
  /** The participant's media session (focus's offer's session id): the bridge's slot maps and layers to send carry
   * it, so signal can tell a late word of an endpoint the participant left on the same bridge. */
  session: mediaSessionSchema.optional(),
});
export type BridgeSubscribe = z.infer<typeof bridgeSubscribeSchema>;
/** How large the receiver shows the video it receives with `ssrc` (an SSRC of its subscriptions); 0x0: not visible. */
export const videoConstraintSchema = z.object({
  ssrc: z.number().int().min(0).max(0xffffffff),
  width: z.number().int().min(0).max(MAX_TILE_PIXELS),
  height: z.number().int().min(0).max(MAX_TILE_PIXELS),
});
export type VideoConstraintPayload = z.infer<typeof videoConstraintSchema>;
/** Sizes by the SSRCs the plain endpoint receives (others are ignored); unlisted SSRCs keep their last size. */
export const focusPlainConstraintsSchema = z.object({ conferenceId: id, endpointId: id, constraints: z.array(videoConstraintSchema).max(1024) });
/** Focus's translation of the receiver's tile sizes to the SSRCs it receives; unlisted SSRCs keep their last size. */
export const bridgeConstraintsSchema = z.object({
  conferenceId: id,
  endpointId: id,
  constraints: z.array(videoConstraintSchema).max(MAX_VIDEO_CONSTRAINT_TILES),
  /** The receiver's cap on every video it gets (0: audio only, no video forwarded); absent: no cap. Replaces the last one. */
  maxHeight: receiveMaxHeightSchema.optional(),
});
export const bridgeMuteSchema = z.object({ conferenceId: id, endpointId: id, kind: mediaKindSchema, muted: z.boolean() });
export const bridgeExpireSchema = z.object({ conferenceId: id, endpointId: id });
export const bridgePingSchema = z.object({});

// ---- bridge -> focus ----
export const bridgeAnnounceSchema = z.object({
  /** One NATS subject token (it goes into `bridge.<id>.*`): letters, digits, - and _. */
  bridgeId: id.regex(/^[A-Za-z0-9_-]+$/, 'a bridge id is letters, digits, - and _'),
  endpoints: z.number().int().nonnegative(),
  /** The bridge's cap (its maxEndpointsPerBridge setting): focus places no more endpoints on it. */
  maxEndpoints: z.number().int().positive().optional(),
  /** Random per bridge process: focus tells a restarted bridge, or two bridges sharing one id, from one bridge. */
  instance: z.string().min(1).max(64).optional(),
  /** The bridge's region (its `region` setting). */
  region: regionSchema.optional(),
  /** The bridge's CPU use since its last announcement: its process's CPU time per core and wall time (0..1). */
  stress: z.number().min(0).max(64).optional(),
  /**
   * The bridge is stopping (SIGTERM): it takes nothing new, and focus moves its conferences to other bridges at
   * once (its goodbye; it keeps announcing until it exits).
   */
  draining: z.boolean().optional(),
});
export const bridgeEventSchema = z.object({
  bridgeId: id,
  conferenceId: id,
  endpointId: id,
  event: z.enum(['connected', 'disconnected']),
});

/** bridge.dominant-speaker: who speaks; `silent` once that person stopped (they stay named until someone else speaks). */
export const bridgeDominantSpeakerSchema = z.object({ bridgeId: id, conferenceId: id, endpointId: id, silent: z.boolean().optional() });
/** bridge.slot-map: who plays on the receive slots of endpoint `endpointId` now (the whole map). */
export const bridgeSlotMapSchema = z.object({
  bridgeId: id,
  conferenceId: id,
  endpointId: id,
  /** The endpoint's media session (bridgeSubscribe's session), when focus gave one. */
  session: mediaSessionSchema.optional(),
  version: z.number().int().nonnegative(),
  slots: z
    .array(z.object({ mid: z.string().regex(/^[0-9]{1,4}$/), participantId: id, kind: mediaKindSchema, role: z.enum(['video', 'screen']).optional() }))
    .max(MAX_RECEIVE_SLOTS),
});
export type BridgeSlotMap = z.infer<typeof bridgeSlotMapSchema>;
/** bridge.send-layers: the rids of endpoint `endpointId`'s camera to send (the lowest always among them); the others pause. */
export const bridgeSendLayersSchema = z.object({
  bridgeId: id,
  conferenceId: id,
  endpointId: id,
  /** The endpoint's media session (bridgeSubscribe's session), when focus gave one. */
  session: mediaSessionSchema.optional(),
  rids: z.array(ridSchema).min(1).max(4),
});

/**
 * bridge.video-suspended: the participants whose cameras endpoint `endpointId` shows (a tile, the camera on) but
 * gets none of, because its downlink's estimate leaves no room for them now (the whole list; empty: none).
 */
export const bridgeVideoSuspendedSchema = z.object({
  bridgeId: id,
  conferenceId: id,
  endpointId: id,
  /** The endpoint's media session (bridgeSubscribe's session), when focus gave one. */
  session: mediaSessionSchema.optional(),
  participantIds: z.array(id).max(MAX_SUSPENDED_VIDEOS),
});

/** The reply of every request that returns nothing else. */
export const okReplySchema = z.object({ ok: z.literal(true) });
export type OkReply = z.infer<typeof okReplySchema>;
export const errorReplySchema = z.object({ ok: z.literal(false), error: z.string() });
