// The meeting toolbar's feature buttons: screen share, chat (with the unread count), participants, hand,
// reactions, layout, full screen, invite (the link, dial-in numbers), settings and the shortcut list.
import { useState, type ReactNode } from 'react';
import { REACTIONS, type Reaction } from '../../protocol/meeting-messages.ts';
import { useStrings } from '../i18n.ts';
import { REACTION_EMOJI, reactionName } from '../i18n-meeting.ts';
import { LinkIcon } from './Icons.tsx';
import {
  ChatIcon,
  FullScreenIcon,
  GearIcon,
  GridIcon,
  HandIcon,
  KeyboardIcon,
  PeopleIcon,
  ScreenIcon,
  SmileIcon,
  SpeakerViewIcon,
} from './MeetingIcons.tsx';
import type { ViewMode } from './VideoLayout.tsx';

export interface MeetingActionsProps {
  sharing: boolean;
  canShare: boolean;
  onToggleShare: () => void;
  chatOpen: boolean;
  unread: number;
  onToggleChat: () => void;
  paneOpen: boolean;
  onTogglePane: () => void;
  handRaised: boolean;
  onToggleHand: () => void;
  onReaction: (r: Reaction) => void;
  view: ViewMode;
  onToggleView: () => void;
  fullScreen: boolean;
  onToggleFullScreen: () => void;
  onInvite: () => void;
  onOpenSettings: () => void;
  onShowShortcuts: () => void;
}

export function Action(props: { label: string; on?: boolean; pressed?: boolean; expanded?: boolean; onClick: () => void; children: ReactNode; disabled?: boolean }) {
  return (
    <button
      type="button"
      className={props.on ? 'round-button active' : 'round-button'}
      aria-label={props.label}
      title={props.label}
      aria-pressed={props.pressed}
      aria-expanded={props.expanded}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

export function MeetingActions(p: MeetingActionsProps) {
  const t = useStrings();
  const [reactionsOpen, setReactionsOpen] = useState(false);
  return (
    <>
      {p.canShare && (
        <Action label={p.sharing ? t.stopSharing : t.shareScreen} on={p.sharing} onClick={p.onToggleShare}>
          <ScreenIcon />
        </Action>
      )}
      <span className="badge-holder">
        <Action label={p.chatOpen ? t.closeChat : t.openChat} on={p.chatOpen} onClick={p.onToggleChat}>
          <ChatIcon />
        </Action>
        {p.unread > 0 && (
          <span className="badge" role="status" aria-label={t.unread(p.unread)}>
            {p.unread > 99 ? '99+' : p.unread}
          </span>
        )}
      </span>
      <Action label={t.participantsPane} on={p.paneOpen} expanded={p.paneOpen} onClick={p.onTogglePane}>
        <PeopleIcon />
      </Action>
      <Action label={p.handRaised ? t.lowerHand : t.raiseHand} on={p.handRaised} onClick={p.onToggleHand}>
        <HandIcon />
      </Action>
      <span className="popover-holder">
        <Action label={t.reactions} expanded={reactionsOpen} on={reactionsOpen} onClick={() => setReactionsOpen((o) => !o)}>
          <SmileIcon />
        </Action>
        {reactionsOpen && (
          <span className="popover reactions-menu" role="group" aria-label={t.reactions}>
            {REACTIONS.map((r) => (
              <button
                key={r}
                type="button"
                className="reaction-button"
                aria-label={reactionName(t, r)}
                title={reactionName(t, r)}
                onClick={() => {
                  p.onReaction(r);
                  setReactionsOpen(false);
                }}
              >
                <span aria-hidden="true">{REACTION_EMOJI[r]}</span>
              </button>
            ))}
          </span>
        )}
      </span>
      <Action label={p.view === 'tile' ? t.speakerView : t.tileView} onClick={p.onToggleView}>
        {p.view === 'tile' ? <SpeakerViewIcon /> : <GridIcon />}
      </Action>
      <Action label={p.fullScreen ? t.exitFullScreen : t.fullScreen} on={p.fullScreen} onClick={p.onToggleFullScreen}>
        <FullScreenIcon exit={p.fullScreen} />
      </Action>
      <Action label={t.invitePeople} onClick={p.onInvite}>
        <LinkIcon />
      </Action>
      <Action label={t.settings} onClick={p.onOpenSettings}>
        <GearIcon />
      </Action>
      <Action label={t.keyboardShortcuts} onClick={p.onShowShortcuts}>
        <KeyboardIcon />
      </Action>
    </>
  );
}
