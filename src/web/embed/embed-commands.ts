// The IFrame API's commands (executeCommand) with Jitsi's names and arguments, each checked before it acts on
// the meeting through the same stores the app's own controls use. Moderator commands go to the server, which
// refuses them from anyone else (errorOccurred then tells the host). What Tertulia does not have is answered
// with errorOccurred type NOT_SUPPORTED, never pretended.
import { z } from 'zod';
import { MAX_CHAT_TEXT, MAX_SUBJECT } from '../../protocol/meeting-messages.ts';
import { stripInvisible } from '../../protocol/display-name.ts';
import type { Conference } from '../media/conference.ts';
import type { ChatStore } from '../meeting/chat-store.ts';
import type { AccessClient } from '../access/access-client.ts';
import type { ViewStore } from '../meeting/view-store.ts';
import { setDevice } from './embed-devices.ts';
import { subjectFor } from '../meeting/subject-store.ts';

export interface EmbedContext {
  conference: Conference;
  chat: ChatStore;
  access: AccessClient;
  view: ViewStore;
  /** errorOccurred to the host page (Jitsi's error types). */
  error(name: string, message: string, type?: 'NOT_SUPPORTED' | 'OTHER' | 'CONNECTION' | 'CONFIG', isFatal?: boolean): void;
}

const participantId = z.string().min(1).max(64);
const deviceArg = z.string().max(256).nullish();
/** Jitsi's `videoType`: 'camera' or 'desktop' (a shared screen). */
const videoType = z.string().max(16).nullish();

/** Positional arguments: these first, anything after them ignored (as Jitsi ignores extra arguments). */
function args<T extends [z.ZodType, ...z.ZodType[]]>(...items: T) {
  return z.tuple(items, z.unknown());
}
/** A command without arguments (any given are ignored). */
const none = z.array(z.unknown()).max(8);

interface Command<S extends z.ZodType> {
  args: S;
  run(c: EmbedContext, a: z.infer<S>): void | Promise<void>;
}

function command<S extends z.ZodType>(schema: S, run: (c: EmbedContext, a: z.infer<S>) => void | Promise<void>): Command<z.ZodType> {
  return { args: schema, run } as Command<z.ZodType>;
}

function notSupported(why: string): Command<z.ZodType> {
  return command(none, (c) => c.error('command.not-supported', why, 'NOT_SUPPORTED'));
}

/** The tile a participant's camera or screen has (view-store.ts). */
function tileKey(id: string | null | undefined, type: string | null | undefined, c: EmbedContext): string | null {
  if (!id) return null;
  const key = id === c.conference.state.selfId || c.conference.state.participants.some((p) => p.id === id) ? id : null;
  return key && type === 'desktop' ? `${key}:screen` : key;
}

const YOUTUBE_RTMP = 'rtmp://a.rtmp.youtube.com/live2';

/** Jitsi's startRecording stream keys as Tertulia's live stream address + key. */
function liveStreamTarget(o: { rtmpStreamKey?: string; youtubeStreamKey?: string }): { url: string; key: string } | undefined {
  if (o.rtmpStreamKey && /^rtmps?:\/\//i.test(o.rtmpStreamKey)) {
    const i = o.rtmpStreamKey.lastIndexOf('/');
    return { url: o.rtmpStreamKey.slice(0, i), key: o.rtmpStreamKey.slice(i + 1) };
  }
  if (o.youtubeStreamKey) return { url: YOUTUBE_RTMP, key: o.youtubeStreamKey };
  return undefined;
}

const recordingOptions = z.looseObject({
  mode: z.enum(['file', 'stream', 'local']).optional(),
  rtmpStreamKey: z.string().max(4096).optional(),
  youtubeStreamKey: z.string().max(4096).optional(),
});

export const COMMANDS: Record<string, Command<z.ZodType>> = {
  displayName: command(args(z.string().max(256)), (c, [name]) => c.conference.rename(name)),
  toggleAudio: command(none, (c) => c.conference.setAudioMuted(!c.conference.local.state.audioMuted)),
  toggleVideo: command(none, (c) => c.conference.setVideoMuted(!c.conference.local.state.videoMuted)),
  toggleShareScreen: command(none, async (c) => {
    if (c.conference.state.screenTrack) c.conference.stopScreenShare();
    // browsers may ask for a click in the frame first (no user gesture comes with a message)
    else if (!(await c.conference.startScreenShare())) c.error('screen-share.failed', 'the screen share was refused or cancelled');
  }),
  toggleChat: command(none, (c) => c.chat.toggle()),
  toggleRaiseHand: command(none, (c) => c.conference.sendMessage({ type: 'hand', raised: c.conference.state.self?.handRaisedAt === undefined })),
  toggleTileView: command(none, (c) => c.view.toggleView()),
  setTileView: command(args(z.boolean()), (c, [enabled]) => c.view.setView(enabled ? 'tile' : 'speaker')),
  toggleParticipantsPane: command(args(z.boolean().nullish()), (c, [open]) => c.view.setPaneOpen(open ?? !c.view.state.paneOpen)),
  pinParticipant: command(args(participantId.nullish(), videoType), (c, [id, type]) => c.view.pin(tileKey(id, type, c))),
  setLargeVideoParticipant: command(args(participantId.nullish(), videoType), (c, [id, type]) => {
    c.view.pin(tileKey(id, type, c));
    c.view.setView('speaker');
  }),
  sendChatMessage: command(args(z.string().max(MAX_CHAT_TEXT * 2), participantId.nullish().or(z.literal('')), z.boolean().nullish()), (c, [text, to]) =>
    c.chat.send(text, to || undefined),
  ),
  muteEveryone: command(args(z.enum(['audio', 'video']).nullish()), (c, [kind]) => c.access.muteEveryone(kind ?? 'audio')),
  kickParticipant: command(args(participantId), (c, [id]) => c.access.removeParticipant(id)),
  grantModerator: command(args(participantId), (c, [id]) => c.access.grantModerator(id)),
  password: command(args(z.string().max(64)), (c, [password]) => {
    // at the room-password prompt, or waiting in a locked room's lobby: join with it; in the meeting (moderators):
    // lock with it, or unlock with ''
    const gate = c.access.state.gate;
    if (gate?.kind === 'password' || (gate?.kind === 'lobby' && gate.locked)) {
      if (password) c.access.submitPassword(password);
    } else if (password) c.access.lockRoom(password);
    else c.access.unlockRoom();
  }),
  toggleLobby: command(args(z.boolean()), (c, [enabled]) => c.access.setLobby(enabled)),
  answerKnockingParticipant: command(args(participantId, z.boolean()), (c, [id, approved]) => (approved ? c.access.admit(id) : c.access.deny(id))),
  startRecording: command(args(recordingOptions), (c, [o]) => {
    if (o.mode === 'local') return c.error('command.not-supported', 'Tertulia records on the server (mode "file"), not in the browser', 'NOT_SUPPORTED');
    if (o.mode !== 'stream') return c.access.startRecording();
    const target = liveStreamTarget(o);
    if (!target) return c.error('recording.bad-options', 'mode "stream" needs rtmpStreamKey as the full rtmp(s):// address with the key, or youtubeStreamKey', 'CONFIG');
    c.access.startLiveStream(target.url, target.key);
  }),
  stopRecording: command(args(z.string().max(16).nullish()), (c, [mode]) => (mode === 'stream' ? c.access.stopLiveStream() : c.access.stopRecording())),
  setAudioInputDevice: command(args(deviceArg, deviceArg), (c, [label, id]) => void setDevice(c.conference, 'audioinput', label, id)),
  setAudioOutputDevice: command(args(deviceArg, deviceArg), (c, [label, id]) => void setDevice(c.conference, 'audiooutput', label, id)),
  setVideoInputDevice: command(args(deviceArg, deviceArg), (c, [label, id]) => void setDevice(c.conference, 'videoinput', label, id)),
  hangup: command(none, (c) => c.conference.leave()),
  endConference: command(none, (c) => c.access.endMeeting()),
  // as Jitsi: a moderator's subject is everyone's; anyone else's changes nothing (errorOccurred says so)
  subject: command(args(z.string().max(MAX_SUBJECT * 4)), (c, [subject]) => {
    if (c.access.state.role === 'moderator') subjectFor(c.conference).set(subject);
    else c.error('subject.not-moderator', 'only a moderator may set the subject', 'OTHER');
  }),
  /** Shown in this browser only, instead of the meeting's subject ('' shows the meeting's again). */
  localSubject: command(args(z.string().max(MAX_SUBJECT * 4)), (c, [subject]) => subjectFor(c.conference).setLocal(stripInvisible(subject).slice(0, MAX_SUBJECT))),
  email: notSupported('Tertulia keeps no e-mail addresses of participants'),
  avatarUrl: notSupported('Tertulia shows initials, not avatars'),
};

/** Most keys a config object given to overwriteConfig may have (Tertulia reads a handful, see url-options.ts). */
export const MAX_CONFIG_KEYS = 500;
/** overwriteConfig's argument: a config.js object, as configOverwrite (keys Tertulia does not know are ignored). */
export const overwriteConfigArgs = args(
  z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length <= MAX_CONFIG_KEYS, `at most ${MAX_CONFIG_KEYS} keys`),
);

/** Runs one command; a bad argument or an unknown name is an errorOccurred, never an exception. */
export function runCommand(c: EmbedContext, name: string, rawArgs: readonly unknown[]): void {
  const cmd = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    c.error('command.unknown', `Tertulia does not know the command "${name}"`, 'NOT_SUPPORTED');
    return;
  }
  const parsed = cmd.args.safeParse(rawArgs);
  if (!parsed.success) {
    c.error('command.bad-arguments', `${name}: ${parsed.error.issues[0]?.message ?? 'bad arguments'}`, 'CONFIG');
    return;
  }
  try {
    void Promise.resolve(cmd.run(c, parsed.data)).catch((e: unknown) => c.error('command.failed', `${name}: ${String(e)}`));
  } catch (e) {
    c.error('command.failed', `${name}: ${String(e)}`);
  }
}
