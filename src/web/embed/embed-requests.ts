// The IFrame API's functions that answer (Promises on the host page): mute state, the room and its people as
// Jitsi's getRoomsInfo shapes them, devices, who shares a screen, and a screenshot of the large video.
import { z } from 'zod';
import { isModerator } from '../meeting/participants.ts';
import type { EmbedContext } from './embed-commands.ts';
import { availableDevices, currentDevices, setDevice, type DeviceKind } from './embed-devices.ts';

const deviceArgs = z.tuple([z.string().max(256).nullish(), z.string().max(256).nullish()]).rest(z.unknown());

function deviceSetter(kind: DeviceKind) {
  return (c: EmbedContext, raw: readonly unknown[]) => {
    const [label, id] = deviceArgs.parse(raw);
    return setDevice(c.conference, kind, label, id);
  };
}

/** The video shown largest: the speaker view's stage, else the biggest tile that shows a picture. */
function largeVideo(): HTMLVideoElement | undefined {
  const stage = document.querySelector<HTMLVideoElement>('.speaker-view .stage video');
  if (stage && stage.videoWidth > 0) return stage;
  const area = (v: HTMLVideoElement) => v.clientWidth * v.clientHeight;
  return [...document.querySelectorAll('video')].filter((v) => v.videoWidth > 0).sort((a, b) => area(b) - area(a))[0];
}

function screenshot(): { dataURL: string } {
  const video = largeVideo();
  if (!video) throw new Error('no video is shown');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d')?.drawImage(video, 0, 0);
  return { dataURL: canvas.toDataURL('image/png') };
}

function roomsInfo(c: EmbedContext) {
  const s = c.conference.state;
  const everyone = [...(s.self ? [s.self] : []), ...s.participants];
  const participants = everyone.map((p) => ({
    jid: p.id,
    id: p.id,
    role: isModerator(p) ? 'moderator' : 'participant',
    displayName: p.displayName,
    avatarUrl: '',
  }));
  return { rooms: [{ isMainRoom: true, id: c.conference.room, jid: c.conference.room, participants }] };
}

type Request = (c: EmbedContext, args: readonly unknown[]) => unknown;

export const REQUESTS: Record<string, Request> = {
  isAudioMuted: (c) => c.conference.local.state.audioMuted,
  isVideoMuted: (c) => c.conference.local.state.videoMuted,
  isAudioAvailable: (c) => c.conference.local.state.micTrack !== null,
  isVideoAvailable: (c) => !c.conference.local.state.noCamera,
  getRoomsInfo: roomsInfo,
  getAvailableDevices: () => availableDevices(),
  getCurrentDevices: (c) => currentDevices(c.conference),
  getContentSharingParticipants: (c) => {
    const s = c.conference.state;
    const ids = s.participants.filter((p) => p.screenSharing).map((p) => p.id);
    if (s.screenTrack && s.selfId) ids.unshift(s.selfId);
    return { sharingParticipantIds: ids };
  },
  captureLargeVideoScreenshot: () => screenshot(),
  setAudioInputDevice: deviceSetter('audioinput'),
  setAudioOutputDevice: deviceSetter('audiooutput'),
  setVideoInputDevice: deviceSetter('videoinput'),
};

/** Answers one request; an unknown name or bad arguments reject it. */
export async function answerRequest(c: EmbedContext, name: string, args: readonly unknown[]): Promise<unknown> {
  const request = Object.prototype.hasOwnProperty.call(REQUESTS, name) ? REQUESTS[name] : undefined;
  if (!request) throw new Error(`Tertulia does not know the function "${name}"`);
  return await request(c, args);
}
