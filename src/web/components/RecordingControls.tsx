// Recording in the meeting: the indicator everyone sees while the meeting is recorded, the moderators'
// toolbar button that starts or stops it, and their switch of a composed recording's layout (grid or speaker)
// while it runs (the server refuses both from anyone else).
import { useSyncExternalStore } from 'react';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Action } from './MeetingActions.tsx';

export function RecordingIndicator({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { recording } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (!recording) return null;
  return (
    <span className="status-pill recording-pill" role="status" aria-label={t.recordingIndicator}>
      <span className="recording-dot" aria-hidden="true" />
      {t.recordingIndicator}
    </span>
  );
}

export function RecordButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { recording, role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (role !== 'moderator') return null;
  const label = recording ? t.stopRecording : t.startRecording;
  return (
    <Action label={label} on={!!recording} className="recording-button" onClick={() => (recording ? access.stopRecording() : access.startRecording())}>
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        {recording ? <rect x="7" y="7" width="10" height="10" rx="1.5" fill="currentColor" /> : <circle cx="12" cy="12" r="6" fill="#e5484d" />}
      </svg>
    </Action>
  );
}

export function RecordingLayoutSwitch({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { recording, role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (role !== 'moderator' || !recording || recording.mode === 'multitrack') return null;
  const choices = [
    ['grid', t.recordingLayoutGrid],
    ['speaker', t.recordingLayoutSpeaker],
  ] as const;
  return (
    <span className="recording-layout" role="group" aria-label={t.recordingLayout} title={t.recordingLayout}>
      {choices.map(([layout, label]) => (
        <button key={layout} type="button" aria-pressed={recording.layout === layout} onClick={() => access.setRecordingLayout(layout)}>
          {label}
        </button>
      ))}
    </span>
  );
}
