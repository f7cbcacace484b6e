// Devices for the IFrame API: Jitsi's device lists ({audioInput, audioOutput, videoInput}) and switching a device
// by id or by label (Jitsi's setAudioInputDevice(label, deviceId)), through what the settings dialog uses.
import type { Conference } from '../media/conference.ts';
import { audioOutput } from '../media/audio-output.ts';

export type DeviceKind = 'audioinput' | 'audiooutput' | 'videoinput';

/** A device as Jitsi reports it (a plain object: MediaDeviceInfo does not cross postMessage). */
export interface DeviceInfo {
  deviceId: string;
  groupId: string;
  kind: DeviceKind;
  label: string;
}

export interface DeviceLists {
  audioInput: DeviceInfo[];
  audioOutput: DeviceInfo[];
  videoInput: DeviceInfo[];
}

async function devices(): Promise<DeviceInfo[]> {
  const list = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
  return list
    .filter((d): d is MediaDeviceInfo & { kind: DeviceKind } => d.kind === 'audioinput' || d.kind === 'audiooutput' || d.kind === 'videoinput')
    .map((d) => ({ deviceId: d.deviceId, groupId: d.groupId, kind: d.kind, label: d.label }));
}

export async function availableDevices(): Promise<DeviceLists> {
  const all = await devices();
  return {
    audioInput: all.filter((d) => d.kind === 'audioinput'),
    audioOutput: all.filter((d) => d.kind === 'audiooutput'),
    videoInput: all.filter((d) => d.kind === 'videoinput'),
  };
}

/** The devices in use: the microphone's and camera's from their tracks, the speaker chosen in the settings. */
export async function currentDevices(conference: Conference): Promise<{ audioInput?: DeviceInfo; audioOutput?: DeviceInfo; videoInput?: DeviceInfo }> {
  const all = await devices();
  const l = conference.local.state;
  const find = (kind: DeviceKind, id: string | undefined) => all.find((d) => d.kind === kind && d.deviceId === (id || 'default')) ?? all.find((d) => d.kind === kind);
  return {
    audioInput: find('audioinput', l.micTrack?.getSettings().deviceId ?? l.micDeviceId ?? undefined),
    audioOutput: find('audiooutput', audioOutput.state.sinkId),
    videoInput: find('videoinput', l.camTrack?.getSettings().deviceId ?? l.camDeviceId ?? undefined),
  };
}

/** Switches to the device with this id, else the one with this label; false when there is none or it failed. */
export async function setDevice(conference: Conference, kind: DeviceKind, label: string | null | undefined, deviceId: string | null | undefined): Promise<boolean> {
  const all = (await devices()).filter((d) => d.kind === kind);
  const device = (deviceId ? all.find((d) => d.deviceId === deviceId) : undefined) ?? (label ? all.find((d) => d.label === label) : undefined);
  if (!device) return false;
  if (kind === 'audiooutput') {
    if (!audioOutput.supported) return false;
    audioOutput.set(device.deviceId);
    return true;
  }
  return await conference.setDevice(kind, device.deviceId);
}
