// Notices and reactions, shown briefly to everyone; each is a status message for assistive technology.
import { useSyncExternalStore } from 'react';
import { useStrings, type Strings } from '../i18n.ts';
import { REACTION_EMOJI, reactionName } from '../i18n-meeting.ts';
import type { Notice, NotificationsStore } from '../meeting/notifications.ts';

function noticeText(t: Strings, n: Notice): string {
  switch (n.kind) {
    case 'joined':
      return t.joinedNotice(n.name);
    case 'moderator':
      return t.moderatorNotice(n.name);
    case 'you-moderator':
      return t.youModeratorNotice;
    case 'left':
      return t.leftNotice(n.name);
    case 'hand':
      return t.raisedHandNotice(n.name);
    case 'hand-lowered':
      return t.handLoweredNotice(n.name);
    case 'sharing':
      return t.startedSharingNotice(n.name);
    case 'recording-started':
      return t.recordingStartedNotice(n.name);
    case 'recording-stopped':
      return t.recordingStoppedNotice(n.name);
    case 'recording-failed':
      return t.recordingFailedNotice;
    case 'recording-disk-full':
      return t.recordingDiskFullNotice;
    case 'recording-continued':
      return t.recordingContinuedNotice;
    case 'live-started':
      return t.liveStartedNotice(n.name);
    case 'live-stopped':
      return t.liveStoppedNotice(n.name);
    case 'live-failed':
      return t.liveFailedNotice;
    case 'live-connected':
      return t.liveConnectedNotice;
    case 'live-connect-failed':
      return t.liveConnectFailedNotice;
    case 'live-interrupted':
      return t.liveInterruptedNotice;
    case 'live-resumed':
      return t.liveResumedNotice;
    case 'reaction':
      return t.reactionBy(n.name, reactionName(t, n.reaction));
    case 'phone-answered':
      return t.phoneAnswered(n.target);
    case 'phone-failed':
      return t.phoneFailed(n.target, t.phoneReason(n.reason));
  }
}

export function Toasts({ store }: { store: NotificationsStore }) {
  const t = useStrings();
  const { notices } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const toasts = notices.filter((n) => n.kind !== 'reaction');
  const reactions = notices.filter((n) => n.kind === 'reaction');
  return (
    <>
      <div className="toasts" aria-label={t.notifications}>
        {toasts.map((n) => (
          <div key={n.id} className="toast" role="status">
            {noticeText(t, n)}
          </div>
        ))}
      </div>
      <div className="reactions-overlay">
        {reactions.map((n) => (
          <div key={n.id} className="reaction-bubble" role="status">
            <span className="reaction-emoji" aria-hidden="true">
              {n.kind === 'reaction' ? REACTION_EMOJI[n.reaction] : ''}
            </span>
            <span className="reaction-text">{noticeText(t, n)}</span>
          </div>
        ))}
      </div>
    </>
  );
}
