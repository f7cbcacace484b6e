// Live streaming in the meeting: the indicator everyone sees while the meeting is live ("Live", or
// "Live stream interrupted" while the recorder reconnects), and the moderators' toolbar button that starts it
// (a dialog asks for the RTMP server address and the stream key) or stops it. The key is sent to the server
// and forgotten here: the field is a password field, cleared when the dialog closes.
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Dialog } from './Dialog.tsx';

export function LiveStreamIndicator({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { liveStream } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (!liveStream) return null;
  const label = liveStream.interrupted ? t.liveInterruptedIndicator : t.liveIndicator;
  return (
    <span className={liveStream.interrupted ? 'status-pill live-pill interrupted' : 'status-pill live-pill'} role="status" aria-label={label}>
      {label}
    </span>
  );
}

export function LiveStreamButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { liveStream, role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const [asking, setAsking] = useState(false);
  if (role !== 'moderator') return null;
  const label = liveStream ? t.stopLiveStream : t.startLiveStream;
  return (
    <>
      <button
        type="button"
        className={liveStream ? 'round-button active live-button' : 'round-button live-button'}
        aria-label={label}
        title={label}
        onClick={() => (liveStream ? access.stopLiveStream() : setAsking(true))}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <circle cx="12" cy="12" r="2.5" fill="currentColor" />
          <path d="M7.8 7.8a6 6 0 0 0 0 8.4M16.2 7.8a6 6 0 0 1 0 8.4M5 5a10 10 0 0 0 0 14M19 5a10 10 0 0 1 0 14" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
      {asking && (
        <LiveStreamDialog
          onClose={() => setAsking(false)}
          onStart={(url, key) => {
            access.startLiveStream(url, key);
            setAsking(false);
          }}
        />
      )}
    </>
  );
}

function LiveStreamDialog({ onClose, onStart }: { onClose: () => void; onStart: (url: string, key: string) => void }) {
  const t = useStrings();
  const [url, setUrl] = useState('');
  const [key, setKey] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onStart(url.trim(), key.trim());
  };
  return (
    <Dialog title={t.liveDialogTitle} onClose={onClose} className="live-dialog">
      <form className="live-form" onSubmit={submit}>
        <p>{t.liveDialogHint}</p>
        <label>
          {t.liveUrlLabel}
          <input type="text" inputMode="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="rtmp://a.rtmp.youtube.com/live2" maxLength={1024} required autoComplete="off" spellCheck={false} />
        </label>
        <label>
          {t.liveKeyLabel}
          <input type="password" value={key} onChange={(e) => setKey(e.target.value)} maxLength={512} autoComplete="off" spellCheck={false} />
        </label>
        <button type="submit">{t.goLive}</button>
      </form>
    </Dialog>
  );
}
