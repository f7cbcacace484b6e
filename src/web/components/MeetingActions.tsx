// The meeting toolbar's feature buttons: screen share, chat (with the unread count), participants, hand,
// reactions, layout, full screen, invite (the link, dial-in numbers), settings and the shortcut list. On a
// phone-sized screen (toolbar-placement.ts) chat, participants and hand stay in the bar (`part="main"`) and the
// rest go in the "More actions" menu (`part="more"`), the reactions as a row at its top.
import { useContext, useRef, type ReactNode, type Ref } from 'react';
import { REACTIONS, type Reaction } from '../../protocol/meeting-messages.ts';
import { useStrings } from '../i18n.ts';
import { REACTION_EMOJI, reactionName } from '../i18n-meeting.ts';
import { LinkIcon } from './Icons.tsx';
import { useKeepInViewport } from './keep-in-viewport.ts';
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
import { PlacementContext } from './toolbar-placement.ts';
import type { ViewMode } from './VideoLayout.tsx';

export interface MeetingActionsProps {
  /** Which buttons: all of them (the default, a wide screen), the phone's bar's or its "More actions" menu's. */
  part?: 'main' | 'more';
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
  reactionsOpen: boolean;
  onReactionsOpen: (open: boolean) => void;
  onReaction: (r: Reaction) => void;
  view: ViewMode;
  onToggleView: () => void;
  canFullScreen: boolean;
  fullScreen: boolean;
  onToggleFullScreen: () => void;
  onInvite: () => void;
  onOpenSettings: () => void;
  canShowShortcuts: boolean;
  onShowShortcuts: () => void;
}

export interface ActionProps {
  label: string;
  on?: boolean;
  pressed?: boolean;
  expanded?: boolean;
  /** The kind of popup the button opens (e.g. "dialog"). */
  haspopup?: 'dialog' | 'menu';
  /** More classes (besides round-button or menu-item). */
  className?: string;
  onClick: () => void;
  children: ReactNode;
  disabled?: boolean;
}

/**
 * A toolbar control: in the bar a round icon button named by `label`; in the "More actions" menu a menu item showing
 * its icon and `label` (its name).
 */
export function Action(props: ActionProps) {
  const placement = useContext(PlacementContext);
  const extra = props.className ? ` ${props.className}` : '';
  if (placement === 'menu')
    return (
      <button
        type="button"
        role="menuitem"
        tabIndex={-1}
        className={(props.on ? 'menu-item active' : 'menu-item') + extra}
        aria-expanded={props.expanded}
        aria-haspopup={props.haspopup}
        disabled={props.disabled}
        onClick={props.onClick}
      >
        {props.children}
        <span className="menu-item-label">{props.label}</span>
      </button>
    );
  return (
    <button
      type="button"
      className={(props.on ? 'round-button active' : 'round-button') + extra}
      aria-label={props.label}
      title={props.label}
      aria-pressed={props.pressed}
      aria-expanded={props.expanded}
      aria-haspopup={props.haspopup}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/** The reactions: buttons in the bar's popover, menu items in a row at the top of the "More actions" menu. */
function ReactionChoices(props: { onReaction: (r: Reaction) => void; className: string; ref?: Ref<HTMLSpanElement> }) {
  const t = useStrings();
  const inMenu = useContext(PlacementContext) === 'menu';
  return (
    <span ref={props.ref} className={props.className} role="group" aria-label={t.reactions}>
      {REACTIONS.map((r) => (
        <button
          key={r}
          type="button"
          role={inMenu ? 'menuitem' : undefined}
          tabIndex={inMenu ? -1 : undefined}
          className="reaction-button"
          aria-label={reactionName(t, r)}
          title={reactionName(t, r)}
          onClick={() => props.onReaction(r)}
        >
          <span aria-hidden="true">{REACTION_EMOJI[r]}</span>
        </button>
      ))}
    </span>
  );
}

/** "Reactions" and, while open, its popover (kept inside the window). */
function ReactionsButton(p: Pick<MeetingActionsProps, 'reactionsOpen' | 'onReactionsOpen' | 'onReaction'>) {
  const t = useStrings();
  const popover = useRef<HTMLSpanElement>(null);
  const open = p.reactionsOpen;
  useKeepInViewport(popover, open);
  return (
    <span className="popover-holder" data-popover="reactions">
      <Action label={t.reactions} expanded={open} on={open} onClick={() => p.onReactionsOpen(!open)}>
        <SmileIcon />
      </Action>
      {open && (
        <ReactionChoices
          ref={popover}
          className="popover reactions-menu"
          onReaction={(r) => {
            p.onReaction(r);
            p.onReactionsOpen(false);
          }}
        />
      )}
    </span>
  );
}

export function MeetingActions(p: MeetingActionsProps) {
  const t = useStrings();
  const main = p.part !== 'more';
  const more = p.part !== 'main';
  const inMenu = p.part === 'more';
  return (
    <>
      {inMenu && <ReactionChoices className="reactions-row" onReaction={p.onReaction} />}
      {more && p.canShare && (
        <Action label={p.sharing ? t.stopSharing : t.shareScreen} on={p.sharing} onClick={p.onToggleShare}>
          <ScreenIcon />
        </Action>
      )}
      {main && (
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
      )}
      {main && (
        <Action label={t.participantsPane} on={p.paneOpen} expanded={p.paneOpen} onClick={p.onTogglePane}>
          <PeopleIcon />
        </Action>
      )}
      {main && (
        <Action label={p.handRaised ? t.lowerHand : t.raiseHand} on={p.handRaised} onClick={p.onToggleHand}>
          <HandIcon />
        </Action>
      )}
      {more && !inMenu && <ReactionsButton reactionsOpen={p.reactionsOpen} onReactionsOpen={p.onReactionsOpen} onReaction={p.onReaction} />}
      {more && (
        <Action label={p.view === 'tile' ? t.speakerView : t.tileView} onClick={p.onToggleView}>
          {p.view === 'tile' ? <SpeakerViewIcon /> : <GridIcon />}
        </Action>
      )}
      {more && p.canFullScreen && (
        <Action label={p.fullScreen ? t.exitFullScreen : t.fullScreen} on={p.fullScreen} onClick={p.onToggleFullScreen}>
          <FullScreenIcon exit={p.fullScreen} />
        </Action>
      )}
      {more && (
        <Action label={t.invitePeople} haspopup="dialog" onClick={p.onInvite}>
          <LinkIcon />
        </Action>
      )}
      {more && (
        <Action label={t.settings} haspopup="dialog" onClick={p.onOpenSettings}>
          <GearIcon />
        </Action>
      )}
      {more && p.canShowShortcuts && (
        <Action label={t.keyboardShortcuts} haspopup="dialog" onClick={p.onShowShortcuts}>
          <KeyboardIcon />
        </Action>
      )}
    </>
  );
}
