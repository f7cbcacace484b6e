// Focus's conference state kept in the key-value bucket (issue 17: state that must outlive a focus process), so
// that the focus taking over from a dead one rebuilds every conference as it was: which bridges it spans and
// their relays, each participant's endpoint (bridge, ICE credentials, certificate, candidates), what it sends,
// its receive m-lines in the browser's order and its offer version, mute state and tile sizes, and the plain-RTP
// endpoints. Written after every operation of a conference (in its turn of focus's lock), BEFORE the offers
// that operation made are published: a browser never holds an m-line the store does not know, so the new
// focus's next offer to it keeps every m-line in its place.
//
// Keys (ASCII, hashed: conference and participant ids are user text): `conf.<c>` the conference record with its
// participants' ids, `part.<c>.<p>` one participant each (only those that changed are written: a join does not
// rewrite everybody). Records are checked with zod when read back: a damaged one is skipped with a warning.
// Not kept: what lives only for an offer in flight (the new focus offers everyone afresh), the rate-limit
// buckets (full again), the relays' last told sources (told again).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Json } from '../bus/bus.ts';
import type { KeyValue } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';
import { bridgeAllocateReplySchema, fingerprintSchema, focusAttachPlainSchema, mediaSourceSchema, regionSchema, videoConstraintSchema } from '../protocol/bus-messages.ts';
import { mediaKindSchema, tileSizeSchema } from '../protocol/signal-messages.ts';
import type { Conference } from './conference.ts';
import { ChangeBucket, type ConferenceLimits } from './limits.ts';
import type { ParticipantState } from './participant-state.ts';
import type { PlainEndpoint } from './plain-endpoints.ts';

/** The key-value bucket of focus: the leader lease and the conferences. */
export const FOCUS_BUCKET = 'tertulia-focus';
/** A participant record with hundreds of m-lines stays well below this; a conference record lists ids. */
export const FOCUS_MAX_VALUE_BYTES = 512 * 1024;
/** Conferences read back at a takeover at most (the rest are left in the store with an error logged). */
export const MAX_RESTORED_CONFERENCES = 10_000;

const RECORD_VERSION = 1;
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);
export const conferenceKey = (conferenceId: string) => `conf.${hash(conferenceId)}`;
export const participantKey = (conferenceId: string, participantId: string) => `part.${hash(conferenceId)}.${hash(participantId)}`;

const id = z.string().min(1).max(128);
const ssrc = z.number().int().min(0).max(0xffffffff);
const sourceSchema = mediaSourceSchema;
const mlineSchema = z.object({
  mid: z.string().max(16),
  participantId: id,
  kind: mediaKindSchema,
  role: z.enum(['video', 'screen']).optional(),
  ssrc,
  rtxSsrc: ssrc.optional(),
  active: z.boolean(),
});
const MAX_LIST = 4096;

export const participantRecordSchema = z.object({
  v: z.literal(RECORD_VERSION),
  id,
  bridgeId: id,
  region: regionSchema.optional(),
  sessionId: z.string().regex(/^[0-9]{1,20}$/),
  simulcastSsrcs: z.object({ ssrc, rtxSsrc: ssrc }),
  relaySsrcs: z.array(ssrc).max(4),
  transport: bridgeAllocateReplySchema,
  sources: z.array(sourceSchema).max(16),
  remote: z.object({ ufrag: z.string(), pwd: z.string(), fingerprint: fingerprintSchema }).optional(),
  fixedSsrcs: z.array(z.tuple([z.enum(['audio', 'camera', 'screen']), z.object({ ssrc, rtxSsrc: ssrc.optional() })])).max(3),
  configured: z.boolean(),
  mlines: z.array(mlineSchema).max(MAX_LIST),
  /** Slot mode (slots.ts); absent in records written before slots: false. */
  slots: z.boolean().optional(),
  freeMids: z.array(z.string().max(16)).max(MAX_LIST),
  nextMid: z.number().int().min(0),
  version: z.number().int().min(0),
  subscribed: z.array(ssrc).max(MAX_LIST).nullable(),
  audioMuted: z.boolean(),
  videoMuted: z.boolean(),
  tiles: z.array(tileSizeSchema).max(MAX_LIST).nullable(),
  maxReceiveHeight: z.number().int().min(0).optional(),
  receiveCapSent: z.boolean(),
});
type ParticipantRecord = z.infer<typeof participantRecordSchema>;

const plainEndpointSchema = z.object({
  id,
  sources: z.array(sourceSchema).max(16),
  receives: z.array(ssrc).max(MAX_LIST),
  started: z.boolean(),
  all: z.boolean(),
  allKinds: z.array(mediaKindSchema).max(2),
  announced: z.string().max(1_000_000),
  /** What it was attached with: a takeover that later moves it off a dead home bridge makes it again from this. */
  request: focusAttachPlainSchema,
  audioMuted: z.boolean(),
  videoMuted: z.boolean(),
  constraints: z.array(videoConstraintSchema).max(MAX_LIST),
});

export const conferenceRecordSchema = z.object({
  v: z.literal(RECORD_VERSION),
  id,
  home: id,
  bridges: z.array(id).min(1).max(64),
  relays: z.array(z.tuple([id, id])).max(2048),
  participants: z.array(id).max(MAX_LIST),
  plain: z.array(plainEndpointSchema).max(64),
});
type ConferenceRecord = z.infer<typeof conferenceRecordSchema>;

/** What is stored of a participant (drop the undefined fields: JSON has none). */
export function participantRecord(p: ParticipantState): ParticipantRecord {
  const r: ParticipantRecord = {
    v: RECORD_VERSION,
    id: p.id,
    bridgeId: p.bridgeId,
    sessionId: p.sessionId,
    simulcastSsrcs: p.simulcastSsrcs,
    relaySsrcs: p.relaySsrcs,
    transport: p.transport,
    sources: p.sources,
    fixedSsrcs: [...p.fixedSsrcs],
    configured: p.configured,
    mlines: p.mlines,
    slots: p.slots,
    freeMids: [...p.freeMids],
    nextMid: p.nextMid,
    version: p.version,
    subscribed: p.subscribed,
    audioMuted: p.audioMuted,
    videoMuted: p.videoMuted,
    tiles: p.tiles,
    receiveCapSent: p.receiveCapSent,
  };
  if (p.region !== undefined) r.region = p.region;
  if (p.remote !== undefined) r.remote = p.remote;
  if (p.maxReceiveHeight !== undefined) r.maxReceiveHeight = p.maxReceiveHeight;
  return r;
}

/** A participant as it was stored: no offer outstanding (the new focus offers afresh), a full rate-limit bucket. */
export function participantFromRecord(r: ParticipantRecord, limits: ConferenceLimits): ParticipantState {
  return {
    id: r.id,
    bridgeId: r.bridgeId,
    ...(r.region !== undefined ? { region: r.region } : {}),
    sessionId: r.sessionId,
    simulcastSsrcs: r.simulcastSsrcs,
    relaySsrcs: r.relaySsrcs,
    transport: r.transport,
    sources: r.sources,
    ...(r.remote !== undefined ? { remote: r.remote } : {}),
    fixedSsrcs: new Map(r.fixedSsrcs),
    configured: r.configured,
    mlines: r.mlines,
    slots: r.slots ?? false,
    freeMids: new Set(r.freeMids),
    nextMid: r.nextMid,
    unplaced: 0,
    version: r.version,
    outstanding: null,
    dirty: false,
    forceNext: false,
    lastOfferedKey: null,
    subscribed: r.subscribed,
    audioMuted: r.audioMuted,
    videoMuted: r.videoMuted,
    tiles: r.tiles,
    maxReceiveHeight: r.maxReceiveHeight,
    receiveCapSent: r.receiveCapSent,
    bucket: new ChangeBucket(limits.renegotiationBurst, limits.renegotiationRate),
    owedOffer: false,
    owedSpread: false,
    owedTimer: null,
  };
}

function conferenceRecord(c: Conference): ConferenceRecord {
  return {
    v: RECORD_VERSION,
    id: c.id,
    home: c.bridgeId,
    bridges: [...c.bridges],
    relays: c.relayPairs(),
    participants: [...c.participants.keys()],
    plain: [...c.plain.byId.values()].map((e) => ({ ...e, allKinds: [...e.allKinds] })),
  };
}

/** A conference as read back at a takeover. */
export interface StoredConference {
  record: ConferenceRecord;
  participants: ParticipantRecord[];
  plain: PlainEndpoint[];
}

/**
 * Writes conferences after each of their operations and reads them all back. Keeps the text it last wrote per
 * key so that only what changed is written again. Write errors are logged, never thrown (the meeting goes on;
 * a takeover would then find older state).
 */
export class ConferenceStore {
  private readonly store: KeyValue;
  private readonly log: Logger;
  /** Per conference id: the text last written per key. */
  private readonly written = new Map<string, Map<string, string>>();

  constructor(store: KeyValue, log: Logger) {
    this.store = store;
    this.log = log;
  }

  /** Stores `c` as it is now (participants first, then the record naming them); undefined: the conference ended. */
  async save(conferenceId: string, c: Conference | undefined): Promise<void> {
    const before = this.written.get(conferenceId) ?? new Map<string, string>();
    const now = new Map<string, Json>();
    if (c) {
      for (const p of c.participants.values()) now.set(participantKey(conferenceId, p.id), participantRecord(p) as unknown as Json);
      now.set(conferenceKey(conferenceId), conferenceRecord(c) as unknown as Json);
    }
    const after = new Map<string, string>();
    const recordKey = conferenceKey(conferenceId);
    try {
      const changed: [string, Json][] = [];
      for (const [key, value] of now) {
        const text = JSON.stringify(value);
        after.set(key, text);
        if (before.get(key) !== text) changed.push([key, value]);
      }
      // the participants at once (a join changes everyone's m-lines), then the record that names them
      await Promise.all(changed.filter(([key]) => key !== recordKey).map(([key, value]) => this.store.put(key, value)));
      const record = changed.find(([key]) => key === recordKey);
      if (record) await this.store.put(record[0], record[1]);
      // the record first (it no longer names them), then the participants that left
      if (!c && before.has(recordKey)) await this.store.delete(recordKey);
      await Promise.all([...before.keys()].filter((key) => !after.has(key) && key !== recordKey).map((key) => this.store.delete(key)));
    } catch (e) {
      this.log.warn({ conference: conferenceId, err: (e as Error).message }, 'storing the conference failed (a focus taking over would find older state)');
      // written again in full next time, and every key either side knew is looked at then (deleted when gone):
      // a failed write must not leave participants who left, or an ended conference, in the store for good
      this.written.set(conferenceId, new Map([...before.keys(), ...after.keys()].map((key) => [key, ''])));
      return;
    }
    if (after.size > 0) this.written.set(conferenceId, after);
    else this.written.delete(conferenceId);
  }

  /** Every stored conference, checked; damaged records are skipped with a warning. */
  async loadAll(): Promise<StoredConference[]> {
    const keys = (await this.store.keys('conf.')).slice(0, MAX_RESTORED_CONFERENCES);
    const out: StoredConference[] = [];
    for (const key of keys) {
      const raw = (await this.store.get(key))?.value;
      const r = conferenceRecordSchema.safeParse(raw);
      if (!r.success) {
        this.log.warn({ key, err: r.error.issues[0]?.message }, 'skipped a damaged conference record');
        continue;
      }
      const participants: ParticipantRecord[] = [];
      for (const pid of r.data.participants) {
        const p = participantRecordSchema.safeParse((await this.store.get(participantKey(r.data.id, pid)))?.value);
        if (p.success && p.data.id === pid) participants.push(p.data);
        else this.log.warn({ conference: r.data.id, participant: pid }, 'a participant record is missing or damaged: left out');
      }
      const plain: PlainEndpoint[] = r.data.plain.map((e) => ({ ...e }));
      out.push({ record: r.data, participants, plain });
      // what is in the store now, so that the next save writes only changes
      const texts = new Map<string, string>([[key, JSON.stringify(raw)]]);
      for (const p of participants) texts.set(participantKey(r.data.id, p.id), JSON.stringify(p));
      this.written.set(r.data.id, texts);
    }
    return out;
  }
}
