// Between "Join meeting" and the meeting: signing in (accounts mode), the room password, the lobby, waiting for the
// host to start the meeting (a guest in accounts or token mode).
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useStrings } from '../i18n.ts';
import type { AccessClient, Gate } from './access-client.ts';
import { SignInFields, type SignInValues } from './SignInFields.tsx';

export function AccessGate({ access, gate, room, onCancel }: { access: AccessClient; gate: Gate; room: string; onCancel: () => void }) {
  const t = useStrings();
  return (
    <main className="end-page">
      <div className="end-card access-card">
        <p className="quoted-name">{room}</p>
        {gate.kind === 'login' && <LoginForm access={access} gate={gate} />}
        {gate.kind === 'password' && <PasswordForm access={access} gate={gate} />}
        {gate.kind === 'lobby' && <LobbyWait access={access} gate={gate} onCancel={onCancel} />}
        {gate.kind === 'host' && <HostWait access={access} gate={gate} onCancel={onCancel} />}
      </div>
    </main>
  );
}

function failureText(t: ReturnType<typeof useStrings>, failed: string | undefined): string | undefined {
  if (failed === 'login-failed') return t.loginFailed;
  if (failed === 'wrong-password') return t.wrongPassword;
  if (failed === 'rate-limited') return t.tooManyAttempts;
  return undefined;
}

function LoginForm({ access, gate, title, hint }: { access: AccessClient; gate: { failed?: string }; title?: string; hint?: string }) {
  const t = useStrings();
  const [values, setValues] = useState<SignInValues>({ username: '', password: '' });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (values.username.trim() && values.password) access.login(values.username.trim(), values.password);
  };
  return (
    <form className="access-form" onSubmit={submit}>
      {title === undefined ? <h1>{t.signInTitle}</h1> : <h2>{title}</h2>}
      {hint !== '' && <p className="tagline">{hint ?? t.signInHint}</p>}
      <SignInFields values={values} onChange={setValues} problem={failureText(t, gate.failed)} />
    </form>
  );
}

/** The room-password field and its submit button; `failed`: why the last one did not let us in. */
function PasswordFields({ access, failed, className, children }: { access: AccessClient; failed: Extract<Gate, { kind: 'password' }>['failed']; className: string; children: ReactNode }) {
  const t = useStrings();
  const [password, setPassword] = useState('');
  const id = useId();
  const problem = failureText(t, failed);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password) access.submitPassword(password);
  };
  return (
    <form className={className} onSubmit={submit}>
      {children}
      <label htmlFor={id} className="field-label">
        {t.meetingPassword}
      </label>
      <input id={id} type="password" autoComplete="off" maxLength={64} autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" className="primary wide" disabled={!password}>
        {t.enterMeeting}
      </button>
    </form>
  );
}

function PasswordForm({ access, gate }: { access: AccessClient; gate: Extract<Gate, { kind: 'password' }> }) {
  const t = useStrings();
  return (
    <PasswordFields access={access} failed={gate.failed} className="access-form">
      <h1>{t.lockedTitle}</h1>
      <p className="tagline">{t.lockedHint}</p>
    </PasswordFields>
  );
}

/**
 * Waiting in the lobby. When the room has a password, "Join with password" (as in Jitsi Meet) shows a field for it:
 * the right one lets us in at once; a wrong one says so, and we keep waiting for a moderator.
 */
function LobbyWait({ access, gate, onCancel }: { access: AccessClient; gate: Extract<Gate, { kind: 'lobby' }>; onCancel: () => void }) {
  const t = useStrings();
  const [asking, setAsking] = useState(false);
  return (
    <>
      <h1>{t.lobbyTitle}</h1>
      <p className="tagline" role="status">
        {t.lobbyHint}
      </p>
      {gate.locked && asking && (
        <PasswordFields access={access} failed={gate.failed} className="access-form lobby-password">
          <p className="tagline">{t.lobbyPasswordHint}</p>
        </PasswordFields>
      )}
      <div className="end-actions">
        {gate.locked && !asking && (
          <button type="button" className="primary" onClick={() => setAsking(true)}>
            {t.joinWithPassword}
          </button>
        )}
        <button type="button" className="secondary" onClick={onCancel}>
          {t.cancelWaiting}
        </button>
      </div>
    </>
  );
}

/**
 * A guest before the host (as Jitsi Meet's "waiting for the host"): the page asks again every few seconds
 * (access-client.ts) and joins once the meeting has started; in accounts mode the host can sign in right here.
 */
function HostWait({ access, gate, onCancel }: { access: AccessClient; gate: Extract<Gate, { kind: 'host' }>; onCancel: () => void }) {
  const t = useStrings();
  return (
    <>
      <h1>{t.hostWaitTitle}</h1>
      <p className="tagline" role="status">
        {t.hostWaitHint}
      </p>
      {gate.signIn && <LoginForm access={access} gate={gate} title={t.hostSignInTitle} hint="" />}
      <div className="end-actions">
        <button type="button" className="secondary" onClick={onCancel}>
          {t.cancelWaiting}
        </button>
      </div>
    </>
  );
}
