// Over the video area, while the microphone is muted and the page hears us speak: "You are muted. Are you trying
// to speak?" with Unmute (media/talk-while-muted.ts decides when). Not shown while we may not unmute: a moderator
// moderates microphones without letting us speak (that notice, AvModerationNotices, offers "Ask to unmute"), or
// the room does not let participants unmute themselves.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { readMicLevels } from '../media/mic-level.ts';
import { READ_EVERY_MS, TalkWhileMuted } from '../media/talk-while-muted.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';
import { accessFor } from '../access/access-client.ts';

export function TalkWhileMutedNotice({ conference }: { conference: Conference }) {
  const t = useStrings();
  const moderation = avModerationFor(conference);
  const mod = useSyncExternalStore(moderation.subscribe, moderation.getSnapshot);
  const access = accessFor(conference);
  const a = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const [watch, setWatch] = useState<TalkWhileMuted | null>(null);
  const [notice, setNotice] = useState(false);
  useEffect(() => {
    const w = new TalkWhileMuted(conference.local, (track, onLevel) => readMicLevels(track, READ_EVERY_MS, onLevel));
    const off = w.subscribe(() => setNotice(w.state.notice));
    setWatch(w);
    return () => {
      off();
      w.dispose();
      setWatch(null);
      setNotice(false);
    };
  }, [conference]);
  // a moderator's word rules: moderated microphones (AvModerationNotices offers "Ask to unmute"), or a room where
  // participants may not unmute themselves (the server would refuse the unmute)
  const mayUnmute = a.role === 'moderator' || ((!mod.enabled.audio || mod.allowed.audio) && a.room.selfUnmuteAllowed);
  if (!notice || watch === null || !mayUnmute) return null;
  return (
    <div className="access-box access-notice" role="status">
      <span>{t.talkWhileMuted}</span>
      <span className="access-actions">
        <button
          type="button"
          className="primary small"
          onClick={() => {
            watch.dismiss();
            if (conference.local.state.audioMuted) moderation.toggle('audio');
          }}
        >
          {t.talkWhileMutedUnmute}
        </button>
        <button type="button" className="secondary small" onClick={() => watch.dismiss()}>
          {t.dismiss}
        </button>
      </span>
    </div>
  );
}
