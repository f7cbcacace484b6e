// "Speaker stats" (as in Jitsi Meet): how long each person has spoken in this meeting. The server counts the time
// as the bridge's dominant speaker with the microphone on (signal/speaker-stats.ts); the dialog asks when it opens
// and every ASK_EVERY_MS while open, and counts the current speaker's time on between answers.
import { useEffect, useState } from 'react';
import type { SpeakerStat } from '../../protocol/meeting-messages.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Dialog } from './Dialog.tsx';
import { Action } from './MeetingActions.tsx';

/** How often the open dialog asks the server again (it allows one ask a second after a few). */
const ASK_EVERY_MS = 3000;

/** 0s, 45s, 3m 05s, 1h 02m. */
export function speakingTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function SpeakerStatsButton({ onOpen }: { onOpen: () => void }) {
  const t = useStrings();
  return (
    <Action label={t.speakerStats} haspopup="dialog" onClick={onOpen}>
      <svg className="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        <path d="M5 20V11h3v9zM10.5 20V4h3v16zM16 20v-6h3v6z" fill="currentColor" />
      </svg>
    </Action>
  );
}

export function SpeakerStatsDialog({ conference, selfId, onClose }: { conference: Conference; selfId: string | null; onClose: () => void }) {
  const t = useStrings();
  const [answer, setAnswer] = useState<{ speakers: SpeakerStat[]; at: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const off = conference.onMessage((m) => {
      if (m.type === 'speaker-stats') setAnswer({ speakers: m.speakers, at: Date.now() });
    });
    const ask = () => conference.sendMessage({ type: 'speaker-stats' });
    ask();
    const asking = setInterval(ask, ASK_EVERY_MS);
    const ticking = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      off();
      clearInterval(asking);
      clearInterval(ticking);
    };
  }, [conference]);
  const rows = (answer?.speakers ?? [])
    .map((s) => ({ ...s, speakingMs: s.speaking ? s.speakingMs + Math.max(0, now - answer!.at) : s.speakingMs }))
    .sort((a, b) => b.speakingMs - a.speakingMs);
  return (
    <Dialog title={t.speakerStats} onClose={onClose} className="speaker-stats-dialog">
      {answer === null ? (
        <p role="status">{t.speakerStatsWaiting}</p>
      ) : (
        <table className="speaker-stats">
          <thead>
            <tr>
              <th scope="col">{t.speakerStatsName}</th>
              <th scope="col">{t.speakerStatsTime}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.participantId} className={s.speaking ? 'speaking' : s.left ? 'left' : undefined}>
                <th scope="row">
                  {s.displayName}
                  {s.participantId === selfId && ` (${t.you})`}
                  {s.speaking && <span className="speaker-stats-note"> · {t.speakerStatsSpeaking}</span>}
                  {s.left && <span className="speaker-stats-note"> · {t.speakerStatsLeft}</span>}
                </th>
                <td>{speakingTime(s.speakingMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  );
}
