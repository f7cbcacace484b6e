// The meeting toolbar: microphone, camera, leave.
import { useStrings } from '../i18n.ts';
import { HangUpIcon } from './Icons.tsx';
import { MediaToggles, type MediaTogglesProps } from './MediaToggles.tsx';

export function Toolbar(props: MediaTogglesProps & { onLeave: () => void }) {
  const t = useStrings();
  const { onLeave, ...toggles } = props;
  return (
    <div className="toolbar" role="toolbar" aria-label={t.meetingControls}>
      <MediaToggles {...toggles} />
      <button type="button" className="round-button danger" aria-label={t.leaveMeeting} title={t.leaveMeeting} onClick={onLeave}>
        <HangUpIcon />
      </button>
    </div>
  );
}
