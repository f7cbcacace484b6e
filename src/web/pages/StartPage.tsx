// The start page: pick (or accept the suggested) room name and start a meeting.
import { useId, useState, type FormEvent } from 'react';
import { useStrings } from '../i18n.ts';
import { randomRoomName, roomNameProblem } from '../room-names.ts';

export function StartPage() {
  const t = useStrings();
  const [name, setName] = useState(randomRoomName);
  const [showProblem, setShowProblem] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const problem = roomNameProblem(name.trim());

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShowProblem(true);
    if (problem) return;
    window.location.assign('/' + encodeURIComponent(name.trim()) + window.location.search);
  };

  const visibleProblem = showProblem || (problem !== undefined && problem !== 'empty' && name.length > 0) ? problem : undefined;
  return (
    <main className="start-page">
      <div className="start-card">
        <h1 className="brand">Tertulia</h1>
        <p className="tagline">{t.tagline}</p>
        <form onSubmit={submit} noValidate>
          <label htmlFor={inputId} className="field-label">
            {t.roomName}
          </label>
          <div className="start-row">
            <input
              id={inputId}
              type="text"
              value={name}
              maxLength={128}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={visibleProblem ? true : undefined}
              aria-describedby={visibleProblem ? errorId : hintId}
              onChange={(e) => setName(e.target.value)}
            />
            <button type="submit" className="primary">
              {t.startMeeting}
            </button>
          </div>
          {visibleProblem ? (
            <p id={errorId} className="field-error" role="alert">
              {t.roomNameFault(visibleProblem)}
            </p>
          ) : (
            <p id={hintId} className="field-hint">
              {t.roomNameHint}
            </p>
          )}
          <button type="button" className="link-button" onClick={() => setName(randomRoomName())}>
            {t.suggestAnother}
          </button>
        </form>
      </div>
    </main>
  );
}
