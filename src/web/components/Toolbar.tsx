// The meeting toolbar: microphone, camera, the meeting's feature buttons (children), leave.
import type { ReactNode } from 'react';
import { useStrings } from '../i18n.ts';
import { HangUpIcon } from './Icons.tsx';
import { MediaToggles, type MediaTogglesProps } from './MediaToggles.tsx';

export function Toolbar(props: MediaTogglesProps & { onLeave: () => void; children?: ReactNode }) {
  const t = useStrings();
  const { onLeave, children, ...toggles } = props;
  return (
    <div className="toolbar" role="toolbar" aria-label={t.meetingControls}>
      <MediaToggles {...toggles} />
      {children}
      <button type="button" className="round-button danger" aria-label={t.leaveMeeting} title={t.leaveMeeting} onClick={onLeave}>
        <HangUpIcon />
      </button>
    </div>
  );
}
