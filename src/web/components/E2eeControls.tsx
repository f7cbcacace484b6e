// End-to-end encryption in the meeting: the moderators' switch (participants pane), the indicator everyone sees
// while it is on (header), and the notices when a browser cannot encrypt: ours (we neither send nor receive media),
// or another participant's (their media is not shown). The server checks the role (signal/e2ee.ts).
import { useSyncExternalStore } from 'react';
import type { Role } from '../../protocol/access-messages.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { e2eeFor } from '../media/e2ee/e2ee-session.ts';

/** Moderators: "Enable end-to-end encryption". */
export function E2eeSwitch({ conference, role }: { conference: Conference; role: Role }) {
  const t = useStrings();
  const store = e2eeFor(conference);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  if (role !== 'moderator') return null;
  return (
    <section className="av-moderation" aria-label={t.enableE2ee}>
      <label className="access-check">
        <input type="checkbox" checked={s.enabled} onChange={(e) => store.setEnabled(e.target.checked)} />
        {t.enableE2ee}
      </label>
      <p className="panel-empty">{t.e2eeHint}</p>
    </section>
  );
}

/** In the header while on: everyone sees that the meeting is encrypted. */
export function E2eeIndicator({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = e2eeFor(conference);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  if (!s.enabled) return null;
  const label = s.by ? t.e2eeOnBy(s.by) : t.e2eeOn;
  return (
    <span className="status-pill e2ee-pill" role="status" aria-label={label} title={label}>
      <svg aria-hidden="true" width="12" height="12" viewBox="0 0 24 24">
        <path fill="currentColor" d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5Zm-3 8V7a3 3 0 0 1 6 0v3H9Z" />
      </svg>
      {t.e2eeOn}
    </span>
  );
}

/** Over the video area: this browser cannot encrypt, or someone else's cannot. */
export function E2eeNotices({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = e2eeFor(conference);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const c = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  if (!s.enabled) return null;
  if (!s.supported) {
    return (
      <div className="error-banner" role="alert">
        <span>{t.e2eeUnsupportedSelf}</span>
      </div>
    );
  }
  const names = c.participants.filter((p) => s.unsupported.includes(p.id)).map((p) => p.displayName);
  if (names.length === 0) return null;
  return (
    <div className="error-banner" role="alert">
      <span>{t.e2eeUnsupportedOthers(names.join(', '))}</span>
    </div>
  );
}
