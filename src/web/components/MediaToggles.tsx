// The microphone and camera toggle buttons, shared by the pre-join page and the meeting toolbar.
// The accessible name says what a click does ("Mute microphone" <-> "Unmute microphone").
import { useStrings } from '../i18n.ts';
import { CameraIcon, CameraOffIcon, MicIcon, MicOffIcon } from './Icons.tsx';

export interface MediaTogglesProps {
  audioMuted: boolean;
  videoMuted: boolean;
  cameraBusy?: boolean;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
}

export function MediaToggles({ audioMuted, videoMuted, cameraBusy, onToggleAudio, onToggleVideo }: MediaTogglesProps) {
  const t = useStrings();
  const micLabel = audioMuted ? t.unmuteMicrophone : t.muteMicrophone;
  const camLabel = videoMuted ? t.startCamera : t.stopCamera;
  return (
    <>
      <button
        type="button"
        className={audioMuted ? 'round-button off' : 'round-button'}
        aria-label={micLabel}
        title={micLabel}
        onClick={onToggleAudio}
      >
        {audioMuted ? <MicOffIcon /> : <MicIcon />}
      </button>
      <button
        type="button"
        className={videoMuted ? 'round-button off' : 'round-button'}
        aria-label={camLabel}
        title={camLabel}
        aria-busy={cameraBusy || undefined}
        onClick={onToggleVideo}
      >
        {videoMuted ? <CameraOffIcon /> : <CameraIcon />}
      </button>
    </>
  );
}
