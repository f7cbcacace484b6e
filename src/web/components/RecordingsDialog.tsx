// Moderators: the "Recordings" toolbar button and its dialog, listing this room's recordings (date, duration,
// size) with a download link for each file (valid one hour, made by the server) and a delete that asks first.
// Everyone else has no button (the server refuses the requests too).
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { RecordingEntry } from '../../protocol/recording-messages.ts';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { recordingsFor, type RecordingsStore } from '../meeting/recordings-store.ts';
import { Dialog } from './Dialog.tsx';

function lang(): string {
  return document.documentElement.lang || 'en';
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(lang(), { dateStyle: 'medium', timeStyle: 'short' });
}

/** h:mm:ss (or m:ss) from start to end; empty while it runs without an end. */
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

export function RecordingsButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const [open, setOpen] = useState(false);
  if (role !== 'moderator') return null;
  return (
    <>
      <button type="button" className="round-button" aria-label={t.recordings} title={t.recordings} aria-haspopup="dialog" onClick={() => setOpen(true)}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <path d="M10 9.5v5l4.5-2.5z" fill="currentColor" />
        </svg>
      </button>
      {open && <RecordingsDialog store={recordingsFor(conference)} onClose={() => setOpen(false)} />}
    </>
  );
}

function RecordingsDialog({ store, onClose }: { store: RecordingsStore; onClose: () => void }) {
  const t = useStrings();
  const { entries } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [confirming, setConfirming] = useState<string | null>(null);
  useEffect(() => store.refresh(), [store]);
  return (
    <Dialog title={t.recordingsTitle} onClose={onClose} className="recordings-dialog">
      {entries === null ? (
        <p role="status">{t.recordingsLoading}</p>
      ) : entries.length === 0 ? (
        <p>{t.recordingsNone}</p>
      ) : (
        <>
          <table className="recordings-table">
            <thead>
              <tr>
                <th scope="col">{t.recordingsDate}</th>
                <th scope="col">{t.recordingsDuration}</th>
                <th scope="col">{t.recordingsSize}</th>
                <th scope="col">{t.recordingsActions}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => {
                const date = when(e.startedAt);
                return (
                  <tr key={e.recordingId}>
                    <td>{date}</td>
                    <td>{e.running ? t.recordingsRunning : duration(e)}</td>
                    <td>{size(e.size)}</td>
                    <td className="recordings-actions">
                      {e.files.map((f) => (
                        <a key={f.name} href={f.url} download={f.name} aria-label={e.files.length === 1 ? t.downloadRecording(date) : `${t.download} ${f.name}`}>
                          {e.files.length === 1 ? t.download : f.name}
                        </a>
                      ))}
                      {!e.running &&
                        (confirming === e.recordingId ? (
                          <span className="recordings-confirm" role="group" aria-label={t.confirmDeleteRecording(date)}>
                            <span>{t.confirmDeleteRecording(date)}</span>
                            <button
                              type="button"
                              className="primary danger-fill-inline"
                              onClick={() => {
                                store.remove(e.recordingId);
                                setConfirming(null);
                              }}
                            >
                              {t.confirmDelete}
                            </button>
                            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                              {t.cancelDelete}
                            </button>
                          </span>
                        ) : (
                          <button type="button" className="secondary" aria-label={t.deleteRecording(date)} onClick={() => setConfirming(e.recordingId)}>
                            {t.confirmDelete}
                          </button>
                        ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="hint">{t.recordingsLinkHint}</p>
        </>
      )}
    </Dialog>
  );
}
