// Moderators: the "Recordings" toolbar button and its dialog, listing this room's recordings (RecordingsTable).
// Everyone else has no button (the server refuses the requests too).
import { useEffect, useState, useSyncExternalStore } from 'react';
import { createPortal } from 'react-dom';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { recordingsFor, type RecordingsStore } from '../meeting/recordings-store.ts';
import { Dialog } from './Dialog.tsx';
import { Action } from './MeetingActions.tsx';
import { RecordingsTable } from './RecordingsTable.tsx';

export function RecordingsButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const [open, setOpen] = useState(false);
  if (role !== 'moderator') return null;
  return (
    <>
      <Action label={t.recordings} haspopup="dialog" onClick={() => setOpen(true)}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <path d="M10 9.5v5l4.5-2.5z" fill="currentColor" />
        </svg>
      </Action>
      {/* in the page's body: the button may sit in the phone's "More actions" menu, hidden once it closes */}
      {open && createPortal(<RecordingsDialog store={recordingsFor(conference)} onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}

function RecordingsDialog({ store, onClose }: { store: RecordingsStore; onClose: () => void }) {
  const t = useStrings();
  const { entries } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  useEffect(() => store.refresh(), [store]);
  return (
    <Dialog title={t.recordingsTitle} onClose={onClose} className="recordings-dialog">
      {entries === null ? (
        <p role="status">{t.recordingsLoading}</p>
      ) : entries.length === 0 ? (
        <p>{t.recordingsNone}</p>
      ) : (
        <>
          <RecordingsTable entries={entries} onDelete={(id) => store.remove(id)} />
          <p className="hint">{t.recordingsLinkHint}</p>
        </>
      )}
    </Dialog>
  );
}
