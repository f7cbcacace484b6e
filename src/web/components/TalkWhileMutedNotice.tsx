// Over the video area, while the microphone is muted and the page hears us speak: "You are muted. Are you trying
// to speak?" with Unmute (media/talk-while-muted.ts decides when). Not shown while a moderator moderates
// microphones without letting us speak: that notice (AvModerationNotices) already offers "Ask to unmute".
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { readMicLevels } from '../media/mic-level.ts';
import { READ_EVERY_MS, TalkWhileMuted } from '../media/talk-while-muted.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';

export function TalkWhileMutedNotice({ conference }: { conference: Conference }) {
  const t = useStrings();
  const moderation = avModerationFor(conference);
  const mod = useSyncExternalStore(moderation.subscribe, moderation.getSnapshot);
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
  if (!notice || watch === null || (mod.enabled.audio && !mod.allowed.audio)) return null;
  return (
    <div className="access-box access-notice" role="status">
      <span>{t.talkWhileMuted}</span>
      <span className="access-actions">
        <button
          type="button"
          className="primary small"
          onClick={() => {
            watch.dismiss();
            moderation.toggle('audio');
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
