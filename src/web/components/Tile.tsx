// One participant's tile: video when there is some, otherwise a circle with initials; a muted-mic badge.
import { useStrings } from '../i18n.ts';
import { MicOffIcon } from './Icons.tsx';
import { VideoView } from './MediaViews.tsx';

export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const first = (w: string | undefined) => (w ? (Array.from(w)[0] ?? '') : '');
  const letters = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0]);
  return letters.toLocaleUpperCase();
}

const AVATAR_COLORS = ['#3d6fb6', '#7a4fb0', '#2f8a6e', '#b0623a', '#a3476b', '#4b7f2f', '#38808f', '#8a6d2a'];

function avatarColor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return AVATAR_COLORS[h % AVATAR_COLORS.length]!;
}

export interface TileProps {
  displayName: string;
  isSelf?: boolean;
  video: MediaStream | null;
  audioMuted: boolean;
}

export function Tile({ displayName, isSelf, video, audioMuted }: TileProps) {
  const t = useStrings();
  const label = isSelf ? `${displayName} (${t.you})` : displayName;
  return (
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
  );
}
