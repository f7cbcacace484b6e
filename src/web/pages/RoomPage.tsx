// Everything under /<room>: pre-join, the meeting, and what comes after; owns the media session objects.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { UrlOptions } from '../url-options.ts';
import { roomNameProblem, visibleRoomName } from '../room-names.ts';
import { LocalMedia } from '../media/local-media.ts';
import { Conference } from '../media/conference.ts';
import { signalUrl } from '../media/server-messages.ts';
import { PreJoinPage } from './PreJoinPage.tsx';
import { MeetingPage } from './MeetingPage.tsx';
import { EndPage } from './EndPage.tsx';
import { chatStoreFor } from '../meeting/chat-store.ts';
import { notificationsFor } from '../meeting/notifications.ts';
import { pollsFor } from '../meeting/polls-store.ts';
import { followMeFor } from '../meeting/follow-me-store.ts';
import { meetingClockFor } from '../meeting/meeting-clock-store.ts';
import { subjectFor } from '../meeting/subject-store.ts';
import { accessFor } from '../access/access-client.ts';
import { AccessBoundary } from '../access/AccessBoundary.tsx';
import { embedding } from '../embed/embedding.ts';
import { serverErrorText } from './error-text.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';
import { e2eeFor } from '../media/e2ee/e2ee-session.ts';
import { warmUpMedia } from '../media/warm-up.ts';
import { visibleDisplayName } from '../../protocol/display-name.ts';
import { rememberedName, rememberName } from '../remembered-name.ts';


export function RoomPage({ room, options }: { room: string; options: UrlOptions }) {
  const initialName = options.displayName ?? rememberedName();
  const [local, setLocal] = useState(
    () => new LocalMedia(options.resolution, options.startWithAudioMuted, options.startWithVideoMuted),
  );
  const [conference, setConference] = useState<Conference | null>(null);
  const autoJoined = useRef(false);

  useEffect(() => {
    // a refused name shows with its invisible characters written out (a bidi override would turn the title around)
    document.title = roomNameProblem(room) ? `${visibleRoomName(room.trim()) || '…'} | Tertulia` : `${room} | Tertulia`;
  }, [room]);
  // someone is about to join: the bridge gets ready while the join screen shows, or while the socket connects
  // when the screen is skipped (`config.prejoinPageEnabled=false`)
  useEffect(() => {
    if (!roomNameProblem(room)) warmUpMedia();
  }, [room]);

  const join = useCallback(
    (displayName: string, media: LocalMedia) => {
      rememberName(displayName);
      const c = new Conference({ url: signalUrl(window.location, room), room, displayName, local: media });
      // listening from the start: the chat history and first notices come right after joining
      chatStoreFor(c);
      notificationsFor(c);
      pollsFor(c);
      subjectFor(c);
      followMeFor(c); // follow me comes right after joining too, and the layout with it
      meetingClockFor(c); // and the meeting's time
      avModerationFor(c); // the moderation state comes right after joining
      e2eeFor(c); // so does the encryption setting; and it shapes the connection before the first offer
      accessFor(c); // token, sign-in, room password, lobby, role: before the first join message
      embedding()?.attach(c); // a host page's IFrame API follows this meeting
      setConference(c);
      void c.start();
    },
    [room],
  );

  // `config.prejoinPageEnabled=false` with a known name: straight into the meeting.
  useEffect(() => {
    if (autoJoined.current || options.prejoinPageEnabled || !visibleDisplayName(initialName)) return;
    autoJoined.current = true;
    join(visibleDisplayName(initialName), local);
  }, [options.prejoinPageEnabled, initialName, local, join]);

  // options changed while the app runs (the IFrame API's overwriteConfig): the resolution applies to the live
  // camera; startWith* only before joining (in a meeting, toggleAudio/toggleVideo change the mute state)
  useEffect(() => {
    void local.setResolution(options.resolution);
  }, [local, options.resolution]);
  const startMuted = useRef({ audio: options.startWithAudioMuted, video: options.startWithVideoMuted });
  useEffect(() => {
    const before = startMuted.current;
    startMuted.current = { audio: options.startWithAudioMuted, video: options.startWithVideoMuted };
    if (conference) return;
    if (before.audio !== options.startWithAudioMuted) {
      if (options.startWithAudioMuted) local.setAudioMuted(true);
      else void local.unmuteMicrophone();
    }
    if (before.video !== options.startWithVideoMuted) {
      if (options.startWithVideoMuted) local.stopCamera();
      else void local.startCamera();
    }
  }, [conference, local, options.startWithAudioMuted, options.startWithVideoMuted]);

  const rejoin = useCallback(() => {
    if (!conference) return;
    const prev = conference.local.state;
    const next = new LocalMedia(options.resolution, prev.audioMuted, prev.videoMuted);
    warmUpMedia(); // the bridge may have gone idle since (its workers stop after a while without anyone)
    setLocal(next);
    join(conference.displayName, next);
  }, [conference, join, options.resolution]);

  if (roomNameProblem(room)) return <EndPage reason="invalid-room" detail={room} />;
  if (!conference) return <PreJoinPage room={room} local={local} initialName={initialName} onJoin={(n) => join(n, local)} />;
  return (
    <AccessBoundary conference={conference}>
      <ConferenceView conference={conference} onRejoin={rejoin} />
    </AccessBoundary>
  );
}

function ConferenceView({ conference, onRejoin }: { conference: Conference; onRejoin: () => void }) {
  const t = useStrings();
  const state = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  switch (state.status) {
    case 'connecting':
    case 'joined':
      return <MeetingPage conference={conference} />;
    case 'left':
      return <EndPage reason="left" onRejoin={onRejoin} />;
    case 'lost':
      return <EndPage reason="lost" onRejoin={onRejoin} />;
    case 'failed': {
      const e = state.error;
      const detail = e ? serverErrorText(t, e) : undefined;
      return <EndPage reason="failed" detail={detail} onRejoin={onRejoin} />;
    }
  }
}
