// The meeting: the video area (tile or speaker view), side panels (chat, participants), notices and
// reactions, hidden audio sinks for the remote participants, the toolbar, dialogs and keyboard shortcuts.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Toolbar } from '../components/Toolbar.tsx';
import { RemoteAudio, useTrackStream } from '../components/MediaViews.tsx';
import { LinkIcon } from '../components/Icons.tsx';
import { MeetingActions, type MeetingActionsProps } from '../components/MeetingActions.tsx';
import { VideoLayout, type LayoutItem } from '../components/VideoLayout.tsx';
import { ChatPanel } from '../components/ChatPanel.tsx';
import { ParticipantsPane } from '../components/ParticipantsPane.tsx';
import { PhoneInviteForm } from '../components/PhoneInvite.tsx';
import { BreakoutBanner, BreakoutRoomsSection } from '../meeting/breakout/BreakoutRoomsSection.tsx';
import { breakoutsFor } from '../meeting/breakout/breakout-store.ts';
import { Toasts } from '../components/Toasts.tsx';
import { SettingsDialog } from '../components/SettingsDialog.tsx';
import { ShortcutsDialog } from '../components/ShortcutsDialog.tsx';
import { InviteDialog } from '../components/InviteDialog.tsx';
import { chatStoreFor } from '../meeting/chat-store.ts';
import { notificationsFor } from '../meeting/notifications.ts';
import { viewFor } from '../meeting/view-store.ts';
import { useShortcuts } from '../meeting/shortcuts.ts';
import { sidePanelsFor, useEscapeClosesPanel } from '../meeting/side-panels.ts';
import { useFullScreen } from '../meeting/full-screen.ts';
import { toolbarPopoversFor, useToolbarPopoverDismissal } from '../meeting/toolbar-popovers.ts';
import { canFullScreen, canShareScreen, useCompactToolbar, useFinePointer } from '../components/toolbar-placement.ts';
import { QualityMonitor, SELF_KEY } from '../media/quality.ts';
import { audioOutput } from '../media/audio-output.ts';
import { AccessOverlays, ModeratorToolsButton } from '../access/AccessOverlays.tsx';
import { RecordButton, RecordingIndicator, RecordingLayoutSwitch } from '../components/RecordingControls.tsx';
import { RecordingsButton } from '../components/RecordingsDialog.tsx';
import { LiveStreamButton, LiveStreamIndicator } from '../components/LiveStreamControls.tsx';
import { TileSizeContext } from '../components/tile-size-context.ts';
import { serverErrorText } from './error-text.ts';
import { PollsButton, PollsPanel } from '../components/PollsPanel.tsx';
import { MeetingSubject } from '../components/SubjectControls.tsx';
import { pollsFor } from '../meeting/polls-store.ts';
import { BoardButtons, BoardPanelView } from '../board/BoardPanels.tsx';
import { SpeakerStatsButton, SpeakerStatsDialog } from '../components/SpeakerStatsDialog.tsx';
import { AudioOnlyBanner, VideoQualityButton, VideoQualityDialog } from '../components/VideoQualityDialog.tsx';
import { AvModerationSwitches } from '../components/AvModerationControls.tsx';
import { FollowMeIndicator } from '../components/FollowMeControls.tsx';
import { MeetingTimer } from '../components/MeetingTimer.tsx';
import { SilentMicrophoneNotice } from '../components/MicrophoneNotices.tsx';
import { E2eeIndicator, E2eeNotices, E2eeSwitch } from '../components/E2eeControls.tsx';
import { accessFor } from '../access/access-client.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';

function meetingLink(): string {
  return window.location.origin + window.location.pathname;
}

export function MeetingPage({ conference }: { conference: Conference }) {
  const t = useStrings();
  const state = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  const local = useSyncExternalStore(conference.local.subscribe, conference.local.getSnapshot);
  const chat = chatStoreFor(conference);
  // from the start: after a reload it takes the tab back to its breakout room
  const breakouts = breakoutsFor(conference);
  useSyncExternalStore(breakouts.subscribe, breakouts.getSnapshot);
  // in a breakout room the header names it, as Jitsi Meet does
  const roomName = breakouts.currentRoom?.name ?? conference.room;
  const panels = sidePanelsFor(conference); // one side panel at a time
  const panelOpen = useSyncExternalStore(panels.subscribe, panels.anyOpen);
  const notices = notificationsFor(conference);
  const chatState = useSyncExternalStore(chat.subscribe, chat.getSnapshot);
  const polls = pollsFor(conference);
  const { open: pollsOpen, unseen: pollsUnseen } = useSyncExternalStore(polls.subscribe, polls.getSnapshot);
  const output = useSyncExternalStore(audioOutput.subscribe, audioOutput.getSnapshot);
  const quality = useMemo(() => new QualityMonitor(() => conference.mediaStats), [conference]);
  const { levels } = useSyncExternalStore(quality.subscribe, quality.getSnapshot);
  // the self view shows what others see (background blurred when that is on)
  useSyncExternalStore(conference.local.effects.subscribe, conference.local.effects.getSnapshot);
  const selfVideo = useTrackStream(local.videoMuted ? null : conference.local.effects.output(local.camTrack));
  const selfScreen = useTrackStream(state.screenTrack);
  const viewStore = viewFor(conference);
  const { view, pinned, paneOpen } = useSyncExternalStore(viewStore.subscribe, viewStore.getSnapshot);
  const [dialog, setDialog] = useState<'settings' | 'shortcuts' | 'invite' | 'video-quality' | 'speaker-stats' | null>(null);
  const access = accessFor(conference);
  const { role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  // audio only: no remote video is received, so tiles show names
  const audioOnly = state.videoQuality === 'audio-only';
  const [shareFailed, setShareFailed] = useState(false);
  const fullScreen = useFullScreen();
  const count = state.participants.length + 1;
  const selfId = state.selfId ?? 'self';
  const handRaised = state.self?.handRaisedAt !== undefined;

  useEffect(() => {
    quality.start();
    return () => quality.stop();
  }, [quality]);

  const items = useMemo(() => {
    const list: LayoutItem[] = [
      {
        key: selfId,
        participantId: selfId,
        screen: false,
        displayName: conference.displayName,
        isSelf: true,
        video: selfVideo,
        audioMuted: local.audioMuted,
        handRaised,
        quality: levels.get(SELF_KEY),
      },
    ];
    if (selfScreen) list.push({ key: `${selfId}:screen`, participantId: selfId, screen: true, displayName: conference.displayName, isSelf: true, video: selfScreen, audioMuted: false, handRaised: false });
    for (const p of state.participants) {
      const media = state.media.get(p.id);
      list.push({
        key: p.id,
        participantId: p.id,
        screen: false,
        displayName: p.displayName,
        isSelf: false,
        video: p.videoMuted || audioOnly ? null : (media?.video ?? null),
        audioMuted: p.audioMuted,
        handRaised: p.handRaisedAt !== undefined,
        phone: p.phone === true,
        quality: levels.get(p.id) ?? 'unknown',
        interrupted: p.interrupted === true,
        suspended: state.mediaPath === 'bridge' && state.suspendedVideos.has(p.id),
      });
      if (media?.screen && !audioOnly) list.push({ key: `${p.id}:screen`, participantId: p.id, screen: true, displayName: p.displayName, isSelf: false, video: media.screen, audioMuted: false, handRaised: false });
    }
    return list;
  }, [selfId, conference.displayName, selfVideo, selfScreen, local.audioMuted, handRaised, levels, state.participants, state.media, state.mediaPath, state.suspendedVideos, audioOnly]);

  // A new screen share takes the stage (speaker view), as in Jitsi Meet; tile view comes back when the shares end.
  const screens = items.filter((i) => i.screen).map((i) => i.key).join(',');
  const previousScreens = useRef('');
  useEffect(() => {
    const before = new Set(previousScreens.current.split(',').filter(Boolean));
    previousScreens.current = screens;
    if (screens.split(',').some((k) => k && !before.has(k))) viewStore.screenShareStarted();
    else if (screens === '' && before.size > 0) viewStore.screenSharesEnded();
  }, [screens, viewStore]);
  // a pinned tile that went away unpins (not one follow me pinned: the leader's choice may arrive before its tile)
  useEffect(() => {
    if (pinned && !(viewStore.following && pinned === viewStore.followedPin) && !items.some((i) => i.key === pinned)) viewStore.pin(null);
  }, [items, pinned, viewStore]);

  const toggleShare = useCallback(() => {
    if (conference.state.screenTrack) conference.stopScreenShare();
    else
      void conference.startScreenShare().then((ok) => {
        setShareFailed(!ok);
      });
  }, [conference]);
  const toggleHand = useCallback(() => conference.sendMessage({ type: 'hand', raised: conference.state.self?.handRaisedAt === undefined }), [conference]);
  const toggleView = useCallback(() => viewStore.toggleView(), [viewStore]);
  useShortcuts(state.status === 'joined', {
    m: () => avModerationFor(conference).toggle('audio'),
    v: () => avModerationFor(conference).toggle('video'),
    c: () => chat.toggle(),
    r: toggleHand,
    d: toggleShare,
    w: toggleView,
    '?': () => setDialog('shortcuts'),
  });
  useEscapeClosesPanel(conference, state.status === 'joined');

  // the toolbar: on a phone-sized screen its main buttons and "More actions" (toolbar-placement.ts)
  const compact = useCompactToolbar();
  const finePointer = useFinePointer();
  const popovers = toolbarPopoversFor(conference);
  const openPopover = useSyncExternalStore(popovers.subscribe, popovers.getSnapshot);
  useToolbarPopoverDismissal(popovers, true);
  // a dialog, or the toolbar changing shape (a phone turned), closes the reactions bar or the menu
  useEffect(() => {
    if (dialog) popovers.close();
  }, [dialog, popovers]);
  useEffect(() => popovers.close(), [compact, popovers]);
  const actions: MeetingActionsProps = {
    sharing: state.screenTrack !== null,
    canShare: canShareScreen(),
    onToggleShare: toggleShare,
    chatOpen: chatState.open,
    unread: chatState.unread,
    onToggleChat: () => chat.toggle(),
    paneOpen,
    onTogglePane: () => viewStore.setPaneOpen(!paneOpen),
    handRaised,
    onToggleHand: toggleHand,
    reactionsOpen: openPopover === 'reactions',
    onReactionsOpen: (open) => popovers.setOpen('reactions', open),
    onReaction: (reaction) => conference.sendMessage({ type: 'reaction', reaction }),
    view,
    onToggleView: toggleView,
    canFullScreen: canFullScreen(),
    fullScreen: fullScreen.active,
    onToggleFullScreen: fullScreen.toggle,
    onInvite: () => setDialog('invite'),
    onOpenSettings: () => setDialog('settings'),
    canShowShortcuts: finePointer,
    onShowShortcuts: () => setDialog('shortcuts'),
  };
  const features = state.status === 'joined' && (
    <>
      <VideoQualityButton conference={conference} onOpen={() => setDialog('video-quality')} />
      <SpeakerStatsButton onOpen={() => setDialog('speaker-stats')} />
      <PollsButton conference={conference} />
      <BoardButtons conference={conference} />
      <RecordButton conference={conference} />
      <RecordingsButton conference={conference} />
      <LiveStreamButton conference={conference} />
    </>
  );

  return (
    <div className="meeting-page">
      <header className="meeting-header">
        <h1 className="room-title small" title={roomName}>
          {roomName}
        </h1>

        {state.status === 'joined' && <MeetingSubject conference={conference} room={roomName} />}
        {state.status === 'joined' && <MeetingTimer conference={conference} />}
        {state.status === 'joined' && (
          <span className="status-pill">
            {t.participants}: {count}
          </span>
        )}
        {state.status === 'joined' && <E2eeIndicator conference={conference} />}
        {state.status === 'joined' && <RecordingIndicator conference={conference} />}
        {state.status === 'joined' && <LiveStreamIndicator conference={conference} />}
        {state.status === 'joined' && <RecordingLayoutSwitch conference={conference} />}
        {state.status === 'connecting' && (
          <span className="status-pill" role="status">
            {t.connecting}
          </span>
        )}
        {state.status === 'joined' && <AudioOnlyBanner conference={conference} />}
        {state.status === 'joined' && <FollowMeIndicator conference={conference} />}

        {state.status === 'joined' && state.mediaPath === 'p2p' && (
          <span className="status-pill" role="status" aria-label={t.directConnection} title={t.directConnectionHint}>
            {t.directConnection}
          </span>
        )}
        {state.reconnecting && (
          <span className="status-pill reconnecting" role="status">
            {t.reconnecting}
          </span>
        )}
        {!state.reconnecting && state.status === 'joined' && state.mediaInterrupted && (
          // the signalling is up but audio and video stopped (the network dropped): the browser gets them back
          <span className="status-pill reconnecting" role="status">
            {t.mediaInterrupted}
          </span>
        )}
        {state.status === 'joined' && <ModeratorToolsButton conference={conference} />}
      </header>
      {state.error && (
        <div className="error-banner" role="alert">
          <span>{serverErrorText(t, state.error)}</span>
          {state.error.code === 'media-unavailable' && (
            // joining again (the page anew) asks for media again: once focus and the bridges answer, it works
            <button type="button" className="link-button" onClick={() => window.location.reload()}>
              {t.tryAgain}
            </button>
          )}
          <button type="button" className="link-button" onClick={() => conference.dismissError()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {state.mediaFailed && state.status === 'joined' && (
        <div className="error-banner" role="alert">
          <span>{t.mediaConnectionFailed}</span>
        </div>
      )}
      {state.status === 'joined' && <E2eeNotices conference={conference} />}
      {shareFailed && (
        <div className="error-banner" role="alert">
          <span>{t.screenShareFailed}</span>
          <button type="button" className="link-button" onClick={() => setShareFailed(false)}>
            {t.dismiss}
          </button>
        </div>
      )}
      <div className="meeting-body">
        <div className="stage-area">
          <TileSizeContext.Provider value={conference.tileSizes}>
            <VideoLayout items={items} view={view} pinned={pinned} dominant={state.dominantSpeakerId} onPin={(k) => viewStore.pin(k)} />
          </TileSizeContext.Provider>
          <AccessOverlays conference={conference} />
          {/* one above the other at the stage's top: in a breakout room alone, the banner, then the card */}
          <div className="stage-top">
            <BreakoutBanner conference={conference} />
            {state.status === 'joined' && <SilentMicrophoneNotice conference={conference} onOpenSettings={() => setDialog('settings')} />}
            {state.status === 'joined' && state.screenAudio && local.audioMuted && (
              // the shared tab's sound goes mixed with the microphone (screen-audio.ts)
              <div className="access-box access-notice" role="status">
                {local.noMicrophone ? t.sharedAudioNoMicrophone : t.sharedAudioMuted}
              </div>
            )}
            {state.status === 'joined' && state.participants.length === 0 && !panelOpen && <AloneCard inBreakoutRoom={breakouts.currentRoom !== undefined} />}
          </div>
          {state.status === 'joined' && <BoardPanelView conference={conference} where="stage" />}
        </div>
        {paneOpen && (
          <ParticipantsPane self={state.self} participants={state.participants} {...(role === 'moderator' && { onLowerHand: (id?: string) => access.lowerHand(id) })}>
            <AvModerationSwitches conference={conference} role={role} />
            <E2eeSwitch conference={conference} role={role} />
            <BreakoutRoomsSection conference={conference} />
            <PhoneInviteForm conference={conference} />
          </ParticipantsPane>
        )}
        {chatState.open && <ChatPanel chat={chat} selfId={state.selfId} participants={state.participants} />}
        {pollsOpen && <PollsPanel conference={conference} />}
        {state.status === 'joined' && <BoardPanelView conference={conference} where="side" />}
      </div>
      <Toasts store={notices} />
      <div className="audio-sinks" hidden>
        {state.participants.map((p) => {
          const audio = state.media.get(p.id)?.audio;
          return audio ? <RemoteAudio key={p.id} stream={audio} sinkId={output.sinkId || undefined} /> : null;
        })}
      </div>
      <Toolbar
        audioMuted={local.audioMuted}
        videoMuted={local.videoMuted}
        cameraBusy={local.cameraStarting}
        onToggleAudio={() => avModerationFor(conference).toggle('audio')}
        onToggleVideo={() => avModerationFor(conference).toggle('video')}
        onLeave={() => conference.leave()}
        {...(compact && {
          more: (
            <>
              <MeetingActions {...actions} part="more" />
              {features}
            </>
          ),
          moreOpen: openPopover === 'more',
          onMoreOpen: (open: boolean) => popovers.setOpen('more', open),
          moreBadge: { count: pollsUnseen, label: t.newPolls(pollsUnseen) },
        })}
      >
        {compact ? (
          <MeetingActions {...actions} part="main" />
        ) : (
          <>
            <MeetingActions {...actions} />
            {features}
          </>
        )}
      </Toolbar>
      {dialog === 'settings' && <SettingsDialog conference={conference} onClose={() => setDialog(null)} />}
      {dialog === 'shortcuts' && <ShortcutsDialog onClose={() => setDialog(null)} />}
      {dialog === 'video-quality' && <VideoQualityDialog conference={conference} onClose={() => setDialog(null)} />}
      {dialog === 'speaker-stats' && <SpeakerStatsDialog conference={conference} selfId={state.selfId} onClose={() => setDialog(null)} />}
      {dialog === 'invite' && <InviteDialog room={conference.room} link={meetingLink()} onClose={() => setDialog(null)} />}
    </div>
  );
}

/** Alone in the room: the meeting's link to invite others; none in a breakout room (a link reaches the main room). */
function AloneCard({ inBreakoutRoom }: { inBreakoutRoom: boolean }) {
  const t = useStrings();
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard?.writeText(meetingLink()).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <aside className="alone-card" aria-labelledby="alone-title">
      <h2 id="alone-title">{t.aloneTitle}</h2>
      {inBreakoutRoom ? (
        <p>{t.aloneInBreakoutHint}</p>
      ) : (
        <>
          <p>{t.aloneHint}</p>
          <button type="button" className="secondary" onClick={copy}>
            <LinkIcon />
            <span>{copied ? t.linkCopied : t.copyLink}</span>
          </button>
        </>
      )}
    </aside>
  );
}
