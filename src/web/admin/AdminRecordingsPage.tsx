// /recordings: every room's recordings, for admins (accounts named in the adminAccounts setting). Sign in
// with username and password (the server's `login`, rate-limited like any sign-in), then the list with
// download links and delete; the server checks the session and the account on every request.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { RecordingEntry } from '../../protocol/recording-messages.ts';
import { RecordingsTable } from '../components/RecordingsTable.tsx';
import { SignInFields, type SignInValues } from '../access/SignInFields.tsx';
import { useStrings } from '../i18n.ts';
import { serverErrorText } from '../pages/error-text.ts';
import { adminRequest, storeAdminSession, storedAdminSession } from './admin-client.ts';

export function AdminRecordingsPage() {
  const t = useStrings();
  const [session, setSession] = useState<string | null>(storedAdminSession);
  const [entries, setEntries] = useState<readonly RecordingEntry[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const signOut = useCallback((why: string | null) => {
    storeAdminSession(null);
    setSession(null);
    setEntries(null);
    setProblem(why);
  }, []);

  const load = useCallback(async () => {
    if (!session) return;
    const m = await adminRequest({ type: 'admin-list-recordings', session }, ['recordings']);
    if (m.type === 'recordings') setEntries(m.recordings);
    else if (m.type === 'error' && m.code === 'not-admin') signOut(t.adminNotAdmin);
    else if (m.type === 'error') setProblem(serverErrorText(t, m));
  }, [session, signOut, t]);

  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (recordingId: string) => {
    if (!session) return;
    const m = await adminRequest({ type: 'admin-delete-recording', session, recordingId }, ['recording-deleted']);
    if (m.type === 'recording-deleted') setEntries((list) => (list ?? []).filter((e) => e.recordingId !== recordingId));
    else if (m.type === 'error' && m.code === 'not-admin') signOut(t.adminNotAdmin);
    else if (m.type === 'error') setProblem(serverErrorText(t, m));
  };

  return (
    <main className="admin-page">
      <div className="admin-card">
        <h1>{t.adminRecordingsTitle}</h1>
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        {!session ? (
          <AdminSignIn
            onSignedIn={(s) => {
              storeAdminSession(s);
              setProblem(null);
              setSession(s);
            }}
          />
        ) : (
          <>
            <div className="admin-actions">
              <button type="button" className="secondary" onClick={() => void load()}>
                {t.refreshList}
              </button>
              <button type="button" className="secondary" onClick={() => signOut(null)}>
                {t.signOut}
              </button>
            </div>
            {entries === null ? (
              <p role="status">{t.recordingsLoading}</p>
            ) : entries.length === 0 ? (
              <p>{t.adminNoRecordings}</p>
            ) : (
              <>
                <RecordingsTable entries={entries} showRoom onDelete={(id) => void remove(id)} />
                <p className="hint">{t.recordingsLinkHint}</p>
              </>
            )}
          </>
        )}
      </div>
    </main>
  );
}

function AdminSignIn({ onSignedIn }: { onSignedIn: (session: string) => void }) {
  const t = useStrings();
  const [values, setValues] = useState<SignInValues>({ username: '', password: '' });
  const [failed, setFailed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const username = values.username.trim();
    if (!username || !values.password) return;
    setBusy(true);
    const m = await adminRequest({ type: 'login', username, password: values.password }, ['login-ok']);
    setBusy(false);
    if (m.type === 'login-ok') onSignedIn(m.session);
    else if (m.type === 'error') setFailed(m.code === 'login-failed' ? t.loginFailed : m.code === 'rate-limited' ? t.tooManyAttempts : serverErrorText(t, m));
  };
  return (
    <form className="access-form" onSubmit={(e) => void submit(e)}>
      <p className="tagline">{t.adminSignInHint}</p>
      <SignInFields values={values} onChange={setValues} problem={failed} busy={busy} />
    </form>
  );
}
