// Notices about our own microphone, over the video: "You are muted. Are you trying to speak?"
// (media/talk-while-muted.ts) and "No sound from your microphone" (media/silent-microphone.ts). Each watch lives
// as long as this component (the meeting page while joined).
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { readMicLevels } from '../media/mic-level.ts';
import { READ_EVERY_MS, type LevelListener, type MicWatch } from '../media/mic-watch.ts';
import { SilentMicrophone } from '../media/silent-microphone.ts';
import { TalkWhileMuted } from '../media/talk-while-muted.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';
import { accessFor } from '../access/access-client.ts';

const listen: LevelListener = (track, onLevel) => readMicLevels(track, READ_EVERY_MS, onLevel);

/** A watch made for `conference` while mounted, and whether it shows its notice. */
function useWatch<W extends MicWatch<{ notice: boolean }>>(conference: Conference, make: (c: Conference) => W): { watch: W | null; notice: boolean } {
  const [watch, setWatch] = useState<W | null>(null);
  const [notice, setNotice] = useState(false);
  useEffect(() => {
    const w = make(conference);
    const off = w.subscribe(() => setNotice(w.state.notice));
    setWatch(w);
    return () => {
      off();
      w.dispose();
      setWatch(null);
      setNotice(false);
    };
  }, [conference, make]);
  return { watch, notice };
}

const makeTalkWhileMuted = (c: Conference) => new TalkWhileMuted(c.local, listen);
const makeSilentMicrophone = (c: Conference) => new SilentMicrophone(c.local, listen);

/** One notice about our microphone: what happened, the button that helps, and Dismiss. */
function MicNotice({ text, action, onAction, onDismiss }: { text: string; action: string; onAction: () => void; onDismiss: () => void }) {
  const t = useStrings();
  return (
    <div className="access-box access-notice" role="status">
      <span>{text}</span>
      <span className="access-actions">
        <button type="button" className="primary small" onClick={onAction}>
          {action}
        </button>
        <button type="button" className="secondary small" onClick={onDismiss}>
          {t.dismiss}
        </button>
      </span>
    </div>
  );
}

/**
 * "You are muted. Are you trying to speak?" with Unmute. Not shown while we may not unmute: a moderator moderates
 * microphones without letting us speak (AvModerationNotices offers "Ask to unmute"), or the room does not let
 * participants unmute themselves.
 */
export function TalkWhileMutedNotice({ conference }: { conference: Conference }) {
  const t = useStrings();
  const moderation = avModerationFor(conference);
  useSyncExternalStore(moderation.subscribe, moderation.getSnapshot);
  const access = accessFor(conference);
  const a = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const { watch, notice } = useWatch(conference, makeTalkWhileMuted);
  const mayUnmute = a.role === 'moderator' || (moderation.mayTurnOn('audio') && !access.unmuteLocked);
  useEffect(() => watch?.setMayUnmute(mayUnmute), [watch, mayUnmute]);
  if (!notice || watch === null || !mayUnmute) return null;
  const unmute = () => {
    watch.dismiss();
    if (conference.local.state.audioMuted) moderation.toggle('audio');
  };
  return <MicNotice text={t.talkWhileMuted} action={t.talkWhileMutedUnmute} onAction={unmute} onDismiss={() => watch.dismiss()} />;
}

/** "No sound from your microphone", with the way to Settings (to choose another). */
export function SilentMicrophoneNotice({ conference, onOpenSettings }: { conference: Conference; onOpenSettings: () => void }) {
  const t = useStrings();
  const { watch, notice } = useWatch(conference, makeSilentMicrophone);
  if (!notice || watch === null) return null;
  return <MicNotice text={t.silentMicrophone} action={t.settings} onAction={onOpenSettings} onDismiss={() => watch.dismiss()} />;
}
