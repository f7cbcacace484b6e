// "Manage video quality" (as in Jitsi Meet): the toolbar button and its dialog, a radio group of High /
// Standard / Low definition and Audio only (media/video-quality.ts says what each does).
import { useId, useSyncExternalStore } from 'react';
import { useStrings, type Strings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { VIDEO_QUALITIES, type VideoQuality } from '../media/video-quality.ts';
import { Dialog } from './Dialog.tsx';
import { Action } from './MeetingActions.tsx';

function qualityName(t: Strings, q: VideoQuality): string {
  switch (q) {
    case 'high':
      return t.qualityHigh;
    case 'standard':
      return t.qualityStandard;
    case 'low':
      return t.qualityLow;
    case 'audio-only':
      return t.qualityAudioOnly;
  }
}

export function VideoQualityButton({ conference, onOpen }: { conference: Conference; onOpen: () => void }) {
  const t = useStrings();
  const { videoQuality } = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  return (
    <Action label={t.manageVideoQuality} on={videoQuality !== 'high'} onClick={onOpen}>
      <svg className="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        <path d="M4 18h3v-4H4zM10.5 18h3V10h-3zM17 18h3V6h-3z" fill="currentColor" opacity={videoQuality === 'audio-only' ? 0.35 : 1} />
      </svg>
    </Action>
  );
}

export function VideoQualityDialog({ conference, onClose }: { conference: Conference; onClose: () => void }) {
  const t = useStrings();
  const { videoQuality } = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  const groupId = useId();
  return (
    <Dialog title={t.manageVideoQuality} onClose={onClose}>
      <p id={`${groupId}-hint`}>{t.videoQualityHint}</p>
      <div role="radiogroup" aria-label={t.videoQuality} aria-describedby={`${groupId}-hint`} className="settings-field">
        {VIDEO_QUALITIES.map((q) => (
          <label key={q} className="access-check">
            <input type="radio" name={groupId} value={q} checked={videoQuality === q} onChange={() => void conference.setVideoQuality(q)} />
            {qualityName(t, q)}
          </label>
        ))}
      </div>
      <p className="panel-empty">{t.audioOnlyHint}</p>
    </Dialog>
  );
}

/** While audio only is on: a small reminder over the video area. */
export function AudioOnlyBanner({ conference }: { conference: Conference }) {
  const t = useStrings();
  const { videoQuality } = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  if (videoQuality !== 'audio-only') return null;
  return (
    <div className="status-pill" role="status">
      {t.audioOnlyOn}
    </div>
  );
}
