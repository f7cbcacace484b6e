// Pre-join: camera preview, name, microphone/camera choices, then "Join meeting".
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useStrings } from '../i18n.ts';
import type { LocalMedia } from '../media/local-media.ts';
import { MediaToggles } from '../components/MediaToggles.tsx';
import { VideoView, useTrackStream } from '../components/MediaViews.tsx';
import { initials } from '../display-names.ts';
import { visibleDisplayName } from '../../protocol/display-name.ts';

export interface PreJoinPageProps {
  room: string;
  local: LocalMedia;
  initialName: string;
  onJoin: (displayName: string) => void;
}

export function PreJoinPage({ room, local, initialName, onJoin }: PreJoinPageProps) {
  const t = useStrings();
  const media = useSyncExternalStore(local.subscribe, local.getSnapshot);
  const [name, setName] = useState(initialName);
  const nameId = useId();
  const preview = useTrackStream(media.videoMuted ? null : media.camTrack);
  // what the server keeps of it: a name of invisible characters only cannot join
  const trimmed = visibleDisplayName(name);

  useEffect(() => {
    void local.init();
  }, [local]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (trimmed) onJoin(trimmed);
  };

  const toggleAudio = () => {
    if (media.audioMuted) void local.unmuteMicrophone();
    else local.setAudioMuted(true);
  };
  const toggleVideo = () => {
    if (media.videoMuted) {
      if (!media.cameraStarting) void local.startCamera();
    }
    else local.stopCamera();
  };

  return (
    <main className="prejoin-page">
      <h1 className="room-title">{room}</h1>
      <p className="tagline">{t.joinHint}</p>
      <div className="prejoin-card">
        <div className="preview">
          {preview ? (
            <VideoView stream={preview} mirrored label={t.cameraPreview} />
          ) : (
            <div className="preview-off">
              <div className="avatar">{initials(trimmed) || '?'}</div>
              <p>{!media.ready || media.cameraStarting ? t.startingDevices : media.noCamera ? t.noCamera : t.cameraOff}</p>
            </div>
          )}
          <div className="preview-controls">
            <MediaToggles
              audioMuted={media.audioMuted}
              videoMuted={media.videoMuted}
              cameraBusy={media.cameraStarting}
              onToggleAudio={toggleAudio}
              onToggleVideo={toggleVideo}
            />
          </div>
        </div>
        {media.noMicrophone && (
          <p className="notice" role="status">
            {t.noMicrophone}
          </p>
        )}
        <form className="prejoin-form" onSubmit={submit}>
          <label htmlFor={nameId} className="field-label">
            {t.yourName}
          </label>
          <input
            id={nameId}
            type="text"
            value={name}
            maxLength={64}
            autoComplete="name"
            placeholder={t.yourNamePlaceholder}
            autoFocus
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="primary wide" disabled={!trimmed}>
            {t.joinMeeting}
          </button>
        </form>
      </div>
    </main>
  );
}
