// The header's meeting timer: how long the meeting has run (meeting/meeting-clock-store.ts), once a second.
// Hidden with Jitsi's `config.hideConferenceTimer`.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { formatElapsed, meetingClockFor } from '../meeting/meeting-clock-store.ts';
import { optionsStore } from '../options-store.ts';

export function MeetingTimer({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = meetingClockFor(conference);
  const { startedAt } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const options = optionsStore();
  const { hideConferenceTimer } = useSyncExternalStore(options.subscribe, options.getSnapshot);
  const [now, setNow] = useState(() => Date.now());
  const shown = startedAt !== null && !hideConferenceTimer;
  useEffect(() => {
    if (!shown) return;
    setNow(Date.now()); // not the last tick's time (a breakout move told a new start)
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [shown, startedAt]);
  if (!shown) return null;
  const text = formatElapsed(now - startedAt);
  return (
    <span className="meeting-timer" role="timer" aria-label={t.meetingTime(text)}>
      {text}
    </span>
  );
}
