// One participant's tile: video when there is some, otherwise a circle with initials; a muted-mic badge.
import { useStrings } from '../i18n.ts';
import { MicOffIcon } from './Icons.tsx';
import { VideoView } from './MediaViews.tsx';
import { avatarColor, initials } from '../display-names.ts';

export interface TileProps {
  displayName: string;
  isSelf?: boolean;
  video: MediaStream | null;
  audioMuted: boolean;
  /** CSS grid-column of the tile's cell. */
  gridColumn?: string;
}

export function Tile({ displayName, isSelf, video, audioMuted, gridColumn }: TileProps) {
  const t = useStrings();
  const label = isSelf ? `${displayName} (${t.you})` : displayName;
  return (
    <div className="cell" style={{ gridColumn }}>
      <div className={isSelf ? 'tile self' : 'tile'} role="group" aria-label={label}>
        {video ? (
          <VideoView stream={video} mirrored={isSelf} />
        ) : (
          <div className="avatar" style={{ backgroundColor: avatarColor(displayName) }}>
            {initials(displayName)}
          </div>
        )}
        <div className="tile-footer">
          {audioMuted && (
            <span className="muted-badge" role="img" aria-label={t.microphoneMuted} title={t.microphoneMuted}>
              <MicOffIcon />
            </span>
          )}
          <span className="tile-name">{label}</span>
        </div>
      </div>
    </div>
  );
}
