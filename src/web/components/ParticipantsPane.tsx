// The participants pane: everyone in the meeting with their state (hand raised, muted, moderator). Raised
// hands come first, in the order they were raised; a moderator lowers one, or all of them. Below the list, what the page puts there (a moderator's
// "Invite by phone").
import type { ReactNode } from 'react';
import type { Participant } from '../../protocol/signal-messages.ts';
import { useStrings } from '../i18n.ts';
import { isModerator, orderForPane } from '../meeting/participants.ts';
import { avatarColor, initials } from '../display-names.ts';
import { CameraOffIcon, MicOffIcon, PhoneIcon } from './Icons.tsx';
import { HandIcon } from './MeetingIcons.tsx';

export interface ParticipantsPaneProps {
  self: Participant | null;
  participants: readonly Participant[];
  /** Moderators: lowers someone's raised hand, or (no id) every raised hand. */
  onLowerHand?: (id?: string) => void;
  children?: ReactNode;
}

export function ParticipantsPane({ self, participants, onLowerHand, children }: ParticipantsPaneProps) {
  const t = useStrings();
  const everyone = orderForPane(self, participants);
  const hands = everyone.filter((p) => p.handRaisedAt !== undefined).length;
  return (
    <aside className="side-panel participants-pane" aria-label={t.participantsPane}>
      <h2 className="panel-title">
        {t.participantsPane} ({everyone.length})
      </h2>
      {onLowerHand && hands > 1 && (
        <button type="button" className="secondary small lower-hands" onClick={() => onLowerHand()}>
          {t.lowerAllHands}
        </button>
      )}
      <ul className="people-list" aria-label={t.participantsPane}>
        {everyone.map((p) => {
          const isSelf = p.id === self?.id;
          const name = isSelf ? `${p.displayName} (${t.you})` : p.displayName;
          return (
            <li key={p.id} className="person" aria-label={name}>
              <span className="person-avatar" style={{ backgroundColor: avatarColor(p.displayName) }} aria-hidden="true">
                {initials(p.displayName)}
              </span>
              <span className="person-name">{name}</span>
              {isModerator(p) && <span className="person-tag">{t.moderator}</span>}
              {p.phone && (
                <span className="person-icon phone" role="img" aria-label={t.phone} title={t.phone}>
                  <PhoneIcon />
                </span>
              )}
              {p.handRaisedAt !== undefined && (
                <span className="person-icon hand" role="img" aria-label={t.handRaised} title={t.handRaised}>
                  <HandIcon />
                </span>
              )}
              {onLowerHand && p.handRaisedAt !== undefined && (
                <button type="button" className="link-button lower-hand" aria-label={t.lowerHandOf(p.displayName)} onClick={() => onLowerHand(p.id)}>
                  {t.lowerHand}
                </button>
              )}
              {p.audioMuted && (
                <span className="person-icon muted" role="img" aria-label={t.microphoneMuted} title={t.microphoneMuted}>
                  <MicOffIcon />
                </span>
              )}
              {p.videoMuted && !p.phone && (
                <span className="person-icon muted" role="img" aria-label={t.cameraOffLabel} title={t.cameraOffLabel}>
                  <CameraOffIcon />
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {children}
    </aside>
  );
}
