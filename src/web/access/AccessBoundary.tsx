// Wraps the conference view: while a sign-in, room password or lobby stands in the way it shows that instead;
// after a removal, an ended meeting or a refused token it shows why.
import { useSyncExternalStore, type ReactNode } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { goToStartPage } from '../pages/EndPage.tsx';
import { accessFor } from './access-client.ts';
import { AccessGate } from './AccessGate.tsx';

const REFUSALS = ['bad-token', 'token-required', 'denied', 'lobby-closed'];

export function AccessBoundary({ conference, children }: { conference: Conference; children: ReactNode }) {
  const t = useStrings();
  const access = accessFor(conference);
  const a = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const c = useSyncExternalStore(conference.subscribe, conference.getSnapshot);

  if (a.ended) {
    const ended = a.ended.kind === 'ended';
    const hint = !ended ? t.removedHint(a.ended.by) : a.ended.byMe ? t.endedByYouHint : t.endedHint(a.ended.by);
    return <RefusalPage title={ended ? t.endedTitle : t.removedTitle} hint={hint} />;
  }
  if (c.status === 'connecting' && a.gate) return <AccessGate access={access} gate={a.gate} room={conference.room} onCancel={() => conference.leave()} />;
  if (c.status === 'failed' && c.error && REFUSALS.includes(c.error.code)) {
    const code = c.error.code;
    if (code === 'denied') return <RefusalPage title={t.deniedTitle} hint={t.deniedHint} />;
    if (code === 'lobby-closed') return <RefusalPage title={t.lobbyClosedTitle} hint={t.lobbyClosedHint} />;
    // a token's refusal keeps the server's reason (what to fix)
    return <RefusalPage title={code === 'bad-token' ? t.tokenRefusedTitle : t.tokenRequiredTitle} hint={`${t.refusalReason} ${c.error.message}`} />;
  }
  return <>{children}</>;
}

function RefusalPage({ title, hint }: { title: string; hint: string }) {
  const t = useStrings();
  return (
    <main className="end-page">
      <div className="end-card">
        <h1>{title}</h1>
        <p className="tagline">{hint}</p>
        <div className="end-actions">
          <button type="button" className="secondary" onClick={goToStartPage}>
            {t.goToStart}
          </button>
        </div>
      </div>
    </main>
  );
}
