// One tile: a participant's camera (or a circle with initials) or a shared screen; badges for a muted
// microphone, a raised hand and the connection quality; "Connection interrupted" over it while the server has not
// heard from that browser for a few seconds; the initials and "Video paused: not enough bandwidth" while the bridge
// sends none of that camera because our downlink has no room for it (the video stays, unseen, so its size is
// still reported and the camera comes back when the bandwidth does); a "Pin" button.
import { useStrings } from '../i18n.ts';
import type { ConnectionLevel } from '../i18n-meeting.ts';
import { MicOffIcon, PhoneIcon } from './Icons.tsx';
import { HandIcon, PinIcon } from './MeetingIcons.tsx';
import { VideoView } from './MediaViews.tsx';
import { avatarColor, initials } from '../display-names.ts';
import { useTileSizeRef } from './tile-size-context.ts';
import type { TileSource } from '../media/tile-sizes.ts';

export interface TileProps {
  displayName: string;
  isSelf?: boolean;
  video: MediaStream | null;
  audioMuted: boolean;
  /** CSS grid-column of the tile's cell. */
  gridColumn?: string;
  /** A shared screen rather than a camera: labelled "<name>'s screen", shown whole (not cropped). */
  screen?: boolean;
  handRaised?: boolean;
  /** A caller on the phone: a handset badge. */
  phone?: boolean;
  quality?: ConnectionLevel;
  /** Its connection is interrupted: said over the picture (the last frame, frozen), as Jitsi Meet does. */
  interrupted?: boolean;
  /** The bridge sends us none of this camera for now (our bandwidth): the initials instead of a frozen picture. */
  suspended?: boolean;
  pinned?: boolean;
  onTogglePin?: () => void;
  /** A remote participant's video: its shown size is reported for the bridge (media/tile-sizes.ts). */
  sizeReport?: { participantId: string; source: TileSource };
}

const QUALITY_BARS: Record<ConnectionLevel, number> = { good: 3, fair: 2, poor: 1, unknown: 0 };

export function Tile({ displayName, isSelf, video, audioMuted, gridColumn, screen, handRaised, phone, quality, interrupted, suspended, pinned, onTogglePin, sizeReport }: TileProps) {
  const t = useStrings();
  const videoRef = useTileSizeRef(sizeReport);
  const person = isSelf ? `${displayName} (${t.you})` : displayName;
  const label = screen ? (isSelf ? t.yourScreen : t.screenOf(displayName)) : person;
  const paused = suspended === true && video !== null && !screen;
  const classes = ['tile', isSelf && !screen ? 'self' : '', screen ? 'screen' : '', handRaised ? 'hand-up' : '', pinned ? 'pinned' : '', interrupted ? 'interrupted' : '', paused ? 'suspended' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className="cell" style={{ gridColumn }}>
      <div className={classes} role="group" aria-label={label}>
        {video && <VideoView stream={video} mirrored={isSelf && !screen} contain={screen} elementRef={videoRef} />}
        {(!video || paused) && (
          <div className="avatar" style={{ backgroundColor: avatarColor(displayName) }}>
            {initials(displayName)}
          </div>
        )}
        {interrupted && !screen ? (
          <p className="tile-interrupted" role="status" title={t.connectionInterrupted}>
            {t.connectionInterrupted}
          </p>
        ) : (
          paused && (
            // no live region: the bridge tries the camera again every 4-16 s, and each try would be announced
            <p className="tile-interrupted tile-suspended" title={t.videoSuspended}>
              {t.videoSuspended}
            </p>
          )
        )}
        <div className="tile-top">
          {handRaised && !screen && (
            <span className="hand-badge" role="img" aria-label={t.handRaised} title={t.handRaised}>
              <HandIcon />
            </span>
          )}
          {quality && !screen && (
            <span className={`quality q-${quality}`} role="img" aria-label={t.connectionQuality(quality)} title={t.connectionQuality(quality)}>
              {[1, 2, 3].map((i) => (
                <span key={i} className={i <= QUALITY_BARS[quality] ? 'bar on' : 'bar'} />
              ))}
            </span>
          )}
          {onTogglePin && (
            <button
              type="button"
              className={pinned ? 'tile-button on' : 'tile-button'}
              aria-label={pinned ? t.unpin : t.pin}
              title={pinned ? t.unpin : t.pin}
              aria-pressed={pinned}
              onClick={onTogglePin}
            >
              <PinIcon />
            </button>
          )}
        </div>
        <div className="tile-footer">
          {phone && (
            <span className="phone-badge" role="img" aria-label={t.phone} title={t.phone}>
              <PhoneIcon />
            </span>
          )}
          {audioMuted && !screen && (
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
