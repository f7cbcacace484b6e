// Audio/video moderation in the meeting (Jitsi's "Moderate audio/video" and "Ask to unmute"): the moderators'
// switches (in the participants pane), the requests moderators answer, and, for a moderated participant, the
// notice with "Ask to unmute" / "Ask to start video". The server enforces all of it (signal/av-moderation.ts).
import { useSyncExternalStore } from 'react';
import type { MediaKind } from '../../protocol/signal-messages.ts';
import type { Role } from '../../protocol/access-messages.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { avModerationFor } from '../meeting/av-moderation-store.ts';

const KINDS: readonly MediaKind[] = ['audio', 'video'];

/** Moderators: "Moderate microphones" / "Moderate cameras" (the participants pane). */
export function AvModerationSwitches({ conference, role }: { conference: Conference; role: Role }) {
  const t = useStrings();
  const store = avModerationFor(conference);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  if (role !== 'moderator') return null;
  return (
    <section className="av-moderation" aria-label={t.moderateMicrophones + ' / ' + t.moderateCameras}>
      {KINDS.map((kind) => (
        <label key={kind} className="access-check">
          <input type="checkbox" checked={s.enabled[kind]} onChange={(e) => store.setModerated(kind, e.target.checked)} />
          {kind === 'audio' ? t.moderateMicrophones : t.moderateCameras}
        </label>
      ))}
      <p className="panel-empty">{t.avModerationHint}</p>
    </section>
  );
}

/** Over the video area: moderators see who asks; a moderated participant may ask. */
export function AvModerationNotices({ conference, role }: { conference: Conference; role: Role }) {
  const t = useStrings();
  const store = avModerationFor(conference);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return (
    <>
      {role === 'moderator' && s.requests.length > 0 && (
        <section className="access-box unmute-requests" aria-label={t.unmuteRequests}>
          <h2>{t.unmuteRequests}</h2>
          <ul>
            {s.requests.map((r) => (
              <li key={`${r.kind}:${r.id}`}>
                <span>{t.asksFor(r.displayName, r.kind)}</span>
                <span className="access-actions">
                  <button type="button" className="primary small" aria-label={t.allowPerson(r.displayName, r.kind)} onClick={() => store.allow(r.kind, r.id)}>
                    {t.allowShort}
                  </button>
                  <button type="button" className="secondary small" aria-label={t.dismissRequest(r.displayName, r.kind)} onClick={() => store.dismissRequest(r.kind, r.id)}>
                    {t.dismiss}
                  </button>
                </span>
              </li>
            ))}
          </ul>
          {s.requests.length > 1 && (
            <span className="access-actions wrap">
              {KINDS.filter((k) => s.requests.some((r) => r.kind === k)).map((k) => (
                <button key={k} type="button" className="secondary small" onClick={() => store.allow(k)}>
                  {t.allowEveryone(k)}
                </button>
              ))}
            </span>
          )}
        </section>
      )}
      {role !== 'moderator' &&
        KINDS.filter((k) => s.enabled[k] && !s.allowed[k]).map((kind) => (
          <div key={kind} className="access-box access-notice" role="status">
            <span>{kind === 'audio' ? t.unmuteModerated : t.videoModerated}</span>
            {s.asked[kind] && <span>{t.requestSent}</span>}
            <span className="access-actions">
              {s.asked[kind] ? (
                <button type="button" className="secondary small" onClick={() => store.ask(kind, false)}>
                  {kind === 'audio' ? t.cancelUnmuteRequest : t.cancelVideoRequest}
                </button>
              ) : (
                <button type="button" className="primary small" onClick={() => store.ask(kind)}>
                  {kind === 'audio' ? t.askToUnmute : t.askToStartVideo}
                </button>
              )}
            </span>
          </div>
        ))}
      {s.justAllowed !== null && (
        <div className="access-box access-notice" role="status">
          <span>{t.allowedToUnmute(s.justAllowed)}</span>
          <button type="button" className="link-button" onClick={() => store.dismissAllowed()}>
            {t.dismiss}
          </button>
        </div>
      )}
    </>
  );
}
