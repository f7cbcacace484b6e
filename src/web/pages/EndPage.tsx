// After a meeting: left on purpose, connection lost, or the server refused the join.
import { useStrings } from '../i18n.ts';
import { roomNameProblem, visibleRoomName } from '../room-names.ts';

export type EndReason = 'left' | 'lost' | 'failed' | 'invalid-room';

export interface EndPageProps {
  reason: EndReason;
  detail?: string;
  onRejoin?: () => void;
}

export function goToStartPage(): void {
  window.location.assign('/' + window.location.search);
}

export function EndPage({ reason, detail, onRejoin }: EndPageProps) {
  const t = useStrings();
  const title = {
    left: t.youLeft,
    lost: t.connectionLost,
    failed: t.couldNotJoin,
    'invalid-room': t.invalidRoomTitle,
  }[reason];
  const hint = {
    left: t.leftHint,
    lost: t.connectionLostHint,
    failed: detail ?? '',
    'invalid-room': t.roomNameFault(roomNameProblem(detail ?? '') ?? 'empty'),
  }[reason];
  // the refused name as typed, its invisible characters written out, isolated from the quotes around it
  const quoted = reason === 'invalid-room' && detail ? visibleRoomName(detail) : undefined;
  return (
    <main className="end-page">
      <div className="end-card">
        <h1>{title}</h1>
        {quoted && (
          <p className="quoted-name">
            “<bdi>{quoted}</bdi>”
          </p>
        )}
        {hint && <p className="tagline">{hint}</p>}
        <div className="end-actions">
          {onRejoin && (
            <button type="button" className="primary" onClick={onRejoin}>
              {t.rejoin}
            </button>
          )}
          <button type="button" className="secondary" onClick={goToStartPage}>
            {t.goToStart}
          </button>
        </div>
      </div>
    </main>
  );
}
