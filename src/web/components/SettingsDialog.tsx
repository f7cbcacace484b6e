// Settings during the meeting: camera, microphone and speaker (with a camera preview and a microphone level
// meter), the effects (EffectSettings.tsx: noise suppression, the camera's background), and the display name
// others see.
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { audioOutput } from '../media/audio-output.ts';
import { rememberName } from '../remembered-name.ts';
import { useMicLevel } from '../media/mic-level.ts';
import { Dialog } from './Dialog.tsx';
import { EffectSettings } from './EffectSettings.tsx';
import { VideoView, useTrackStream } from './MediaViews.tsx';
import { visibleDisplayName } from '../../protocol/display-name.ts';

function useDevices(): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    let live = true;
    const load = () =>
      navigator.mediaDevices
        .enumerateDevices()
        .then((d) => live && setDevices(d))
        .catch(() => {});
    load();
    navigator.mediaDevices.addEventListener('devicechange', load);
    return () => {
      live = false;
      navigator.mediaDevices.removeEventListener('devicechange', load);
    };
  }, []);
  return devices;
}

function DeviceSelect({ label, kind, devices, value, onChange }: { label: string; kind: MediaDeviceKind; devices: MediaDeviceInfo[]; value: string; onChange: (id: string) => void }) {
  const t = useStrings();
  const id = useId();
  const list = devices.filter((d) => d.kind === kind && d.deviceId);
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} disabled={list.length === 0}>
        {value === '' && <option value="">{t.systemDefault}</option>}
        {list.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || t.deviceNumbered(label, i + 1)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The device id a live track uses, when the browser tells. */
function trackDevice(track: MediaStreamTrack | null): string {
  return track?.getSettings().deviceId ?? '';
}

export function SettingsDialog({ conference, onClose }: { conference: Conference; onClose: () => void }) {
  const t = useStrings();
  const local = useSyncExternalStore(conference.local.subscribe, conference.local.getSnapshot);
  const output = useSyncExternalStore(audioOutput.subscribe, audioOutput.getSnapshot);
  const devices = useDevices();
  useSyncExternalStore(conference.local.effects.subscribe, conference.local.effects.getSnapshot);
  const preview = useTrackStream(local.videoMuted ? null : conference.local.effects.output(local.camTrack));
  const level = useMicLevel(local.micTrack);
  const [name, setName] = useState(conference.displayName);
  const nameId = useId();

  const saveName = (e: FormEvent) => {
    e.preventDefault();
    const visible = visibleDisplayName(name);
    if (!visible) return;
    conference.rename(name);
    rememberName(visible);
  };

  return (
    <Dialog title={t.settings} onClose={onClose} className="settings-dialog">
      <div className="settings-grid">
        <div className="settings-preview">
          {preview ? <VideoView stream={preview} mirrored label={t.cameraPreview} /> : <p className="preview-note">{local.noCamera ? t.noCamera : t.cameraOff}</p>}
        </div>
        <div className="settings-fields">
          <DeviceSelect
            label={t.camera}
            kind="videoinput"
            devices={devices}
            value={local.camDeviceId ?? trackDevice(local.camTrack)}
            onChange={(id) => void conference.setDevice('videoinput', id)}
          />
          <DeviceSelect
            label={t.microphone}
            kind="audioinput"
            devices={devices}
            value={local.micDeviceId ?? trackDevice(local.micTrack)}
            onChange={(id) => void conference.setDevice('audioinput', id)}
          />
          <div
            className="level-meter"
            role="meter"
            aria-label={t.microphoneLevel}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(level * 100)}
          >
            <div className="level-fill" style={{ width: `${Math.round(level * 100)}%` }} />
          </div>
          {audioOutput.supported ? (
            <DeviceSelect label={t.speaker} kind="audiooutput" devices={devices} value={output.sinkId} onChange={(id) => audioOutput.set(id)} />
          ) : (
            <p className="field-hint">{t.speakerNotSupported}</p>
          )}
        </div>
      </div>
      <EffectSettings effects={conference.local.effects} />
      <form className="settings-name" onSubmit={saveName}>
        <label htmlFor={nameId} className="field-label">
          {t.displayName}
        </label>
        <div className="chat-send-row">
          <input id={nameId} type="text" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="primary" disabled={!visibleDisplayName(name) || visibleDisplayName(name) === conference.displayName}>
            {t.save}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
