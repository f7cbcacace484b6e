// A table of recordings (the moderators' Recordings dialog, and the admins' /recordings page with the room
// column): date, duration, size, a download link per file (made by the server, valid one hour) and a delete
// that asks first. Every text is rendered by React, so a room's name is shown as typed, never as markup.
import type { RecordingEntry } from '../../protocol/recording-messages.ts';
import { useStrings } from '../i18n.ts';
import { ConfirmButton } from './ConfirmButton.tsx';

function lang(): string {
  return document.documentElement.lang || 'en';
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(lang(), { dateStyle: 'medium', timeStyle: 'short' });
}

/** h:mm:ss (or m:ss) from start to end; empty without an end. */
function duration(e: RecordingEntry): string {
  if (!e.endedAt) return '';
  const s = Math.max(0, Math.round((Date.parse(e.endedAt) - Date.parse(e.startedAt)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function size(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1024 ? `${(mb / 1024).toLocaleString(lang(), { maximumFractionDigits: 1 })} GB` : `${mb.toLocaleString(lang(), { maximumFractionDigits: 1 })} MB`;
}

export function RecordingsTable({ entries, showRoom, onDelete }: { entries: readonly RecordingEntry[]; showRoom?: boolean; onDelete: (recordingId: string) => void }) {
  const t = useStrings();
  return (
    <table className="recordings-table">
      <thead>
        <tr>
          {showRoom && <th scope="col">{t.recordingsRoom}</th>}
          <th scope="col">{t.recordingsDate}</th>
          <th scope="col">{t.recordingsDuration}</th>
          <th scope="col">{t.recordingsSize}</th>
          <th scope="col">{t.recordingsActions}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => {
          const date = showRoom ? `${e.room}, ${when(e.startedAt)}` : when(e.startedAt);
          return (
            <tr key={e.recordingId}>
              {showRoom && <td>{e.room}</td>}
              <td>{when(e.startedAt)}</td>
              <td>{e.running ? t.recordingsRunning : duration(e)}</td>
              <td>{size(e.size)}</td>
              <td className="recordings-actions">
                {e.files.map((f) => (
                  <a key={f.name} href={f.url} download={f.name} aria-label={e.files.length === 1 ? t.downloadRecording(date) : `${t.download} ${f.name}`}>
                    {e.files.length === 1 ? t.download : f.name}
                  </a>
                ))}
                {!e.running && (
                  <ConfirmButton
                    label={t.confirmDelete}
                    ariaLabel={t.deleteRecording(date)}
                    question={t.confirmDeleteRecording(date)}
                    confirmLabel={t.confirmDelete}
                    className="secondary"
                    onConfirm={() => onDelete(e.recordingId)}
                  />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
