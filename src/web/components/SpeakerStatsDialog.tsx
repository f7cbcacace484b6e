// "Speaker stats" (as in Jitsi Meet): how long each person has spoken in this meeting. The server counts the time
// as the bridge's dominant speaker, speaking with the microphone on (signal/speaker-stats.ts); the dialog asks when
// it opens, every ASK_EVERY_MS while open and when the speaker or someone's microphone changes (at most once a
// second), and counts the current speaker's time on between answers, for PROJECT_MS at most (no answer: it stops).
import { useEffect, useState } from 'react';
import type { SpeakerStat } from '../../protocol/meeting-messages.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Dialog } from './Dialog.tsx';
import { Action } from './MeetingActions.tsx';
import { SpeakerTimeIcon } from './MeetingIcons.tsx';

/** How often the open dialog asks the server again (it allows one ask a second after a few). */
const ASK_EVERY_MS = 3000;
/** Asks made for a change at most this often. */
const CHANGE_ASK_MS = 1000;
/** How long after an answer the current speaker's time is counted on without a newer one. */
const PROJECT_MS = 2 * ASK_EVERY_MS;

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
      <SpeakerTimeIcon />
    </Action>
  );
}

export function SpeakerStatsDialog({ conference, selfId, onClose }: { conference: Conference; selfId: string | null; onClose: () => void }) {
  const t = useStrings();
  const [answer, setAnswer] = useState<{ speakers: SpeakerStat[]; at: number } | null>(null);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    let asked = -Infinity;
    let changeAsk: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      asked = performance.now();
      conference.sendMessage({ type: 'speaker-stats' });
    };
    // a change (another speaker, a microphone turned off or on) is asked about soon, not at the next round
    const askSoon = () => {
      if (changeAsk !== undefined) return;
      changeAsk = setTimeout(() => {
        changeAsk = undefined;
        ask();
      }, Math.max(0, asked + CHANGE_ASK_MS - performance.now()));
    };
    const off = conference.onMessage((m) => {
      if (m.type === 'speaker-stats') setAnswer({ speakers: m.speakers, at: performance.now() });
      else if (m.type === 'dominant-speaker' || m.type === 'participant-updated') askSoon();
    });
    ask();
    // every ask at least CHANGE_ASK_MS after the one before (the server allows one a second)
    const asking = setInterval(() => {
      if (performance.now() - asked >= CHANGE_ASK_MS) ask();
    }, ASK_EVERY_MS);
    const ticking = setInterval(() => setNow(performance.now()), 1000);
    return () => {
      off();
      clearInterval(asking);
      clearInterval(ticking);
      clearTimeout(changeAsk);
    };
  }, [conference]);
  const since = answer === null ? 0 : Math.min(Math.max(0, now - answer.at), PROJECT_MS);
  const rows = (answer?.speakers ?? []).map((s) => ({ ...s, speakingMs: s.speaking ? s.speakingMs + since : s.speakingMs }));
  // the people here first (the server's order), each part by time
  const here = rows.filter((s) => !s.left && !s.elsewhere).sort((a, b) => b.speakingMs - a.speakingMs);
  const listed = here.concat(rows.filter((s) => s.left || s.elsewhere));
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
            {listed.map((s) => (
              <tr key={s.participantId} className={s.speaking ? 'speaking' : s.left || s.elsewhere ? 'left' : undefined}>
                <th scope="row">
                  {s.displayName}
                  {s.participantId === selfId && ` (${t.you})`}
                  {s.speaking && <span className="speaker-stats-note">{' ·\u00a0'}{t.speakerStatsSpeaking}</span>}
                  {s.left && <span className="speaker-stats-note">{' ·\u00a0'}{t.speakerStatsLeft}</span>}
                  {s.elsewhere && <span className="speaker-stats-note">{' ·\u00a0'}{t.speakerStatsElsewhere}</span>}
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
