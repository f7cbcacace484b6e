// Live streaming in the meeting: the indicator everyone sees once the meeting's stream is started ("Connecting
// the live stream…" until the streaming server takes it, then "Live", or "Live stream interrupted" while the
// recorder reconnects), and the moderators' toolbar button that starts it (a dialog asks for the RTMP server
// address and the stream key) or stops it. The dialog checks the address as the server will (stream-url.ts) and
// stays open, with what was typed, until the stream runs; a refusal (the page's or the server's) is shown in it.
// The key is sent to the server and forgotten here: the field is a password field, cleared when the dialog closes.
import { useCallback, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { createPortal } from 'react-dom';
import { checkStreamUrl, type StreamUrlProblem } from '../../protocol/stream-url.ts';
import { accessFor, type AccessClient, type LiveStreamDialogState } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { liveStreamRefusalText } from '../pages/error-text.ts';
import { Dialog } from './Dialog.tsx';
import { Action } from './MeetingActions.tsx';

export function LiveStreamIndicator({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { liveStream } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (!liveStream) return null;
  // not live before the streaming server took it (a failed first connection is retried: still connecting)
  const label = liveStream.connecting ? t.liveConnectingIndicator : liveStream.interrupted ? t.liveInterruptedIndicator : t.liveIndicator;
  const state = liveStream.connecting ? ' connecting' : liveStream.interrupted ? ' interrupted' : '';
  return (
    <span className={`status-pill live-pill${state}`} role="status" aria-label={label}>
      {label}
    </span>
  );
}

export function LiveStreamButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { liveStream, liveStreamDialog, role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  // stable: the dialog moves the focus into itself whenever its onClose changes
  const close = useCallback(() => access.closeLiveStreamDialog(), [access]);
  if (role !== 'moderator') return null;
  const label = liveStream ? t.stopLiveStream : t.startLiveStream;
  return (
    <>
      <Action label={label} on={!!liveStream} className="live-button" haspopup={liveStream ? undefined : 'dialog'} onClick={() => (liveStream ? access.stopLiveStream() : access.openLiveStreamDialog())}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <circle cx="12" cy="12" r="2.5" fill="currentColor" />
          <path d="M7.8 7.8a6 6 0 0 0 0 8.4M16.2 7.8a6 6 0 0 1 0 8.4M5 5a10 10 0 0 0 0 14M19 5a10 10 0 0 1 0 14" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </Action>
      {/* in the page's body: the button may sit in the phone's "More actions" menu, hidden once it closes */}
      {liveStreamDialog && !liveStream && createPortal(<LiveStreamDialog access={access} state={liveStreamDialog} onClose={close} />, document.body)}
    </>
  );
}

function LiveStreamDialog({ access, state, onClose }: { access: AccessClient; state: LiveStreamDialogState; onClose: () => void }) {
  const t = useStrings();
  const errorId = useId();
  const [url, setUrl] = useState('');
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<StreamUrlProblem | null>(null);
  const sending = state.state === 'sending';
  const refused = state.state === 'refused' ? state : null;
  const error = liveStreamRefusalText(t, problem, refused);
  const badAddress = problem !== null || refused?.code === 'live-stream-bad-url';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (sending) return;
    const checked = checkStreamUrl(url, key);
    setProblem(checked.ok ? null : checked.problem);
    if (checked.ok) access.sendLiveStreamDialog(url.trim(), key.trim());
  };
  const invalid = badAddress ? { 'aria-invalid': true, 'aria-describedby': errorId } : {};
  return (
    <Dialog title={t.liveDialogTitle} onClose={onClose} className="live-dialog">
      <form className="live-form" onSubmit={submit} noValidate>
        <p>{t.liveDialogHint}</p>
        <label>
          {t.liveUrlLabel}
          <input type="text" inputMode="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="rtmp://a.rtmp.youtube.com/live2" maxLength={1024} autoComplete="off" spellCheck={false} {...invalid} />
        </label>
        <label>
          {t.liveKeyLabel}
          <input type="password" value={key} onChange={(e) => setKey(e.target.value)} maxLength={512} autoComplete="off" spellCheck={false} {...invalid} />
        </label>
        {error !== null && (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={sending}>
          {sending ? t.goingLive : t.goLive}
        </button>
      </form>
    </Dialog>
  );
}
