// The user name and password fields of a sign-in form, its error line and its button: the meeting's sign-in
// (accounts mode) and the admins' Recordings page use the same ones.
import { useId } from 'react';
import { useStrings } from '../i18n.ts';

export interface SignInValues {
  username: string;
  password: string;
}

export function SignInFields({
  values,
  onChange,
  problem,
  busy = false,
}: {
  values: SignInValues;
  onChange: (v: SignInValues) => void;
  problem?: string | null | undefined;
  busy?: boolean;
}) {
  const t = useStrings();
  const userId = useId();
  const passId = useId();
  return (
    <>
      <label htmlFor={userId} className="field-label">
        {t.accessUsername}
      </label>
      <input id={userId} type="text" autoComplete="username" maxLength={64} autoFocus value={values.username} onChange={(e) => onChange({ ...values, username: e.target.value })} />
      <label htmlFor={passId} className="field-label">
        {t.accessPassword}
      </label>
      <input id={passId} type="password" autoComplete="current-password" maxLength={256} value={values.password} onChange={(e) => onChange({ ...values, password: e.target.value })} />
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" className="primary wide" disabled={busy || !values.username.trim() || !values.password}>
        {t.signIn}
      </button>
    </>
  );
}
