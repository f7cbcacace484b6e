// Every request on the bus in one table: subject, request schema, reply schema, and the error codes the handler
// may refuse with (besides 'bad-request' and 'internal', which every call may). Requesters use callBus and
// handlers serveBus (src/bus/typed-calls.ts) with these entries, so both sides check the same shapes and a
// code such as 'no-capacity' survives NATS. Events (publish/subscribe) keep their schemas in bus-messages.ts.
import type { BusCallSpec } from '../bus/typed-calls.ts';
import {
  bridgeAllocatePlainReplySchema,
  bridgeAllocatePlainSchema,
  bridgeAllocateRelayReplySchema,
  bridgeAllocateRelaySchema,
  bridgeSetSourcesSchema,
  bridgePingSchema,
  bridgeAllocateReplySchema,
  bridgeAllocateSchema,
  bridgeConfigureSchema,
  bridgeConstraintsSchema,
  bridgeExpireSchema,
  bridgeMuteSchema,
  bridgeSubscribeSchema,
  focusAnswerSchema,
  focusAttachPlainReplySchema,
  focusAttachPlainSchema,
  focusConstraintsSchema,
  focusDetachPlainSchema,
  focusPlainConstraintsSchema,
  focusJoinSchema,
  focusLeaveSchema,
  focusMuteSchema,
  focusRenegotiateSchema,
  focusStartPlainSchema,
  okReplySchema,
  subjects,
} from './bus-messages.ts';
import {
  recorderDeleteSchema,
  recorderListReplySchema,
  recorderListSchema,
  recorderReadReplySchema,
  recorderReadSchema,
  recorderLayoutSchema,
  recorderParticipantsSchema,
  recorderStartReplySchema,
  recorderStartSchema,
  recorderStopReplySchema,
  recorderStopSchema,
  recorderSubjects,
} from './recorder-messages.ts';
import { dialInSubjects, pinLookupReplySchema, pinLookupSchema } from './dial-in-messages.ts';
import { phoneJoinReplySchema, phoneJoinSchema, phoneLeaveSchema, phoneMuteReplySchema, phoneMuteSchema, phoneSubjects } from './phone-messages.ts';
import { dialOutSubjects, sipDialCancelSchema, sipDialReplySchema, sipDialSchema } from './dial-out-messages.ts';


/**
 * - not-found: no such conference, participant or endpoint (it left, or never was);
 * - conflict: it exists already, or clashes with what exists (an SSRC another participant sends);
 * - no-capacity: every bridge (or this one) is at its endpoint cap;
 * - unavailable: no bridge announced itself, or focus is stopping;
 * - limit: a per-conference cap (plain-RTP endpoints, m-lines) is reached.
 * A recorder's start (a recording, or with `stream` a live stream): no-capacity (at maxRecordingsPerRecorder, or no
 * free ports in its range), not-found (no meeting media to record), unavailable (its media process did not start),
 * conflict (that recording id runs already), no-space (its disk has less free space than recordingMinFreeMb).
 * A phone's join: not-allowed (the room's rules keep a caller out: a lobby, a password, no host yet), with the
 * reason for the caller.
 * A dial-out (`sip.dial`): unavailable (no SIP trunk configured), limit (at the gateway's cap of calls going out);
 * its cancel: not-found (answered or ended already).

 */
export type BusErrorCode = 'not-found' | 'conflict' | 'no-capacity' | 'unavailable' | 'limit' | 'no-space' | 'not-allowed';

const fixed = (subject: string) => () => subject;
const spec = <Req extends BusCallSpec['request'], Rep extends BusCallSpec['reply'], Code extends BusErrorCode>(
  subject: (target: string) => string,
  request: Req,
  reply: Rep,
  errors: readonly Code[],
): BusCallSpec<Req, Rep, Code> => ({ subject, request, reply, errors });

/**
 * How long a bridge may take to give an endpoint a transport (allocate, allocate-plain, allocate-relay): with media
 * workers on demand (`mediaWorkersOnDemand`) the first endpoint after an idle spell waits for them to start, about
 * 1 s of CPU for two and 5 s or more on a busy machine. The other bridge calls answer at once.
 */
export const BRIDGE_ALLOCATE_TIMEOUT_MS = 20_000;
/** How long focus may take to put an endpoint in a conference (focus.join, focus.attach-plain): one allocation and its own work. */
export const FOCUS_ATTACH_TIMEOUT_MS = BRIDGE_ALLOCATE_TIMEOUT_MS + 10_000;

export const busCalls = {
  // signal -> focus
  focusJoin: spec(fixed(subjects.focusJoin), focusJoinSchema, okReplySchema, ['conflict', 'no-capacity', 'unavailable']),
  focusAnswer: spec(fixed(subjects.focusAnswer), focusAnswerSchema, okReplySchema, ['not-found', 'conflict']),
  focusLeave: spec(fixed(subjects.focusLeave), focusLeaveSchema, okReplySchema, []),
  focusMute: spec(fixed(subjects.focusMute), focusMuteSchema, okReplySchema, ['not-found']),
  focusRenegotiate: spec(fixed(subjects.focusRenegotiate), focusRenegotiateSchema, okReplySchema, ['not-found']),
  focusConstraints: spec(fixed(subjects.focusConstraints), focusConstraintsSchema, okReplySchema, ['not-found']),
  focusAttachPlain: spec(fixed(subjects.focusAttachPlain), focusAttachPlainSchema, focusAttachPlainReplySchema, ['not-found', 'conflict', 'no-capacity', 'unavailable', 'limit']),
  focusStartPlain: spec(fixed(subjects.focusStartPlain), focusStartPlainSchema, okReplySchema, ['not-found']),
  focusDetachPlain: spec(fixed(subjects.focusDetachPlain), focusDetachPlainSchema, okReplySchema, []),
  focusPlainConstraints: spec(fixed(subjects.focusPlainConstraints), focusPlainConstraintsSchema, okReplySchema, ['not-found']),
  // focus -> bridge <id>
  bridgeAllocate: spec(subjects.bridgeAllocate, bridgeAllocateSchema, bridgeAllocateReplySchema, ['no-capacity', 'unavailable']),
  bridgeAllocatePlain: spec(subjects.bridgeAllocatePlain, bridgeAllocatePlainSchema, bridgeAllocatePlainReplySchema, ['no-capacity', 'conflict', 'unavailable']),
  bridgeAllocateRelay: spec(subjects.bridgeAllocateRelay, bridgeAllocateRelaySchema, bridgeAllocateRelayReplySchema, ['conflict', 'unavailable']),
  bridgeSetSources: spec(subjects.bridgeSetSources, bridgeSetSourcesSchema, okReplySchema, ['not-found', 'conflict']),
  bridgeConfigure: spec(subjects.bridgeConfigure, bridgeConfigureSchema, okReplySchema, ['not-found']),
  bridgeSubscribe: spec(subjects.bridgeSubscribe, bridgeSubscribeSchema, okReplySchema, ['not-found']),
  bridgeConstraints: spec(subjects.bridgeConstraints, bridgeConstraintsSchema, okReplySchema, ['not-found']),
  bridgeMute: spec(subjects.bridgeMute, bridgeMuteSchema, okReplySchema, ['not-found']),
  bridgeExpire: spec(subjects.bridgeExpire, bridgeExpireSchema, okReplySchema, []),
  bridgePing: spec(subjects.bridgePing, bridgePingSchema, okReplySchema, []),
  // signal -> recorder <id>
  recorderStart: spec(recorderSubjects.start, recorderStartSchema, recorderStartReplySchema, ['no-capacity', 'conflict', 'not-found', 'unavailable', 'no-space']),
  recorderStop: spec(recorderSubjects.stop, recorderStopSchema, recorderStopReplySchema, ['not-found']),
  recorderParticipants: spec(recorderSubjects.participants, recorderParticipantsSchema, okReplySchema, ['not-found']),
  recorderList: spec(recorderSubjects.list, recorderListSchema, recorderListReplySchema, []),
  recorderRead: spec(recorderSubjects.read, recorderReadSchema, recorderReadReplySchema, ['not-found']),
  recorderDelete: spec(recorderSubjects.delete, recorderDeleteSchema, okReplySchema, ['not-found', 'conflict']),
  recorderLayout: spec(recorderSubjects.layout, recorderLayoutSchema, okReplySchema, ['not-found', 'conflict']),
  // sip -> signal: the room of a PIN a caller typed (not-found: no room has it)
  signalPinLookup: spec(fixed(dialInSubjects.pinLookup), pinLookupSchema, pinLookupReplySchema, ['not-found']),
  // sip gateway -> signal (phone-messages.ts)
  signalPhoneJoin: spec(fixed(phoneSubjects.join), phoneJoinSchema, phoneJoinReplySchema, ['not-allowed', 'no-capacity', 'unavailable', 'limit']),
  signalPhoneLeave: spec(fixed(phoneSubjects.leave), phoneLeaveSchema, okReplySchema, []),
  signalPhoneMute: spec(fixed(phoneSubjects.mute), phoneMuteSchema, phoneMuteReplySchema, ['not-found', 'not-allowed']),
  // signal -> sip
  sipDial: spec(fixed(dialOutSubjects.dial), sipDialSchema, sipDialReplySchema, ['unavailable', 'limit']),
  sipDialCancel: spec(fixed(dialOutSubjects.cancel), sipDialCancelSchema, okReplySchema, ['not-found']),

} as const;
