// "Invite by phone" in the participants pane, for moderators: a number or SIP address (checked here with the
// protocol's own schema, and again by the server), the calls being made with a button to stop each, and how
// each ended. Nothing for other participants, nor for a moderator the server would not let call (`joined` says).
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { phoneInvitesFor } from '../meeting/phone-invites-store.ts';
import { phoneTargetSchema } from '../../protocol/dial-out-messages.ts';

export function PhoneInviteForm({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { role, phoneInvites } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const store = phoneInvitesFor(conference);
  const { invites } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [target, setTarget] = useState('');
  const [invalid, setInvalid] = useState(false);
  // only where the server lets this moderator call (signed in, a token, or sipDialOutAnonymous)
  if (role !== 'moderator' || !phoneInvites) return null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = phoneTargetSchema.safeParse(target);
    setInvalid(!parsed.success);
    if (!parsed.success) return;
    store.invite(parsed.data);
    setTarget('');
  };

  return (
    <section className="phone-invite" aria-label={t.inviteByPhone}>
      <h3 className="panel-subtitle">{t.inviteByPhone}</h3>
      <form onSubmit={submit} noValidate>
        <input
          type="tel"
          aria-label={t.phoneTarget}
          placeholder={t.phoneTargetHint}
          value={target}
          maxLength={256}
          aria-invalid={invalid}
          onChange={(e) => {
            setTarget(e.target.value);
            setInvalid(false);
          }}
        />
        <button type="submit" disabled={target.trim() === ''}>
          {t.phoneCall}
        </button>
      </form>
      {invalid && (
        <p className="field-error" role="alert">
          {t.phoneTargetInvalid}
        </p>
      )}
      {invites.length > 0 && (
        <ul className="phone-calls" aria-label={t.phoneCalls}>
          {invites.map((i) => (
            <li key={i.id} role="status">
              {i.state === 'calling' ? t.phoneCalling(i.target) : i.state === 'answered' ? t.phoneAnswered(i.target) : t.phoneFailed(i.target, t.phoneReason(i.reason ?? 'failed'))}
              {i.state === 'calling' && (
                <button type="button" className="link-button" aria-label={t.phoneCancel(i.target)} onClick={() => store.cancel(i.id)}>
                  ✕
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
