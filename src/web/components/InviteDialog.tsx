// "Invite people": the meeting link to copy and, when the server has dial-in numbers, how to join by phone
// ("Dial in: +1 555 0100, PIN 123 456 789#", every number by country).
import { useEffect, useId, useState } from 'react';
import { useStrings } from '../i18n.ts';
import { fetchDialIn, type DialInInfo } from '../meeting/dial-in.ts';
import { Dialog } from './Dialog.tsx';
import { LinkIcon } from './Icons.tsx';

export function InviteDialog({ room, link, onClose }: { room: string; link: string; onClose: () => void }) {
  const t = useStrings();
  const linkId = useId();
  const [copied, setCopied] = useState(false);
  const [dialIn, setDialIn] = useState<DialInInfo | null | 'loading'>('loading');
  useEffect(() => {
    let live = true;
    void fetchDialIn(room).then((info) => live && setDialIn(info));
    return () => {
      live = false;
    };
  }, [room]);
  const copy = () => {
    navigator.clipboard?.writeText(link).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  const countries = dialIn && dialIn !== 'loading' ? Object.entries(dialIn.numbers) : [];
  return (
    <Dialog title={t.invitePeople} onClose={onClose} className="invite-dialog">
      <label htmlFor={linkId}>{t.meetingLink}</label>
      <div className="invite-link">
        <input id={linkId} type="text" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="secondary" onClick={copy}>
          <LinkIcon />
          <span>{copied ? t.linkCopied : t.copyLink}</span>
        </button>
      </div>
      {dialIn === 'loading' && <p className="hint">{t.dialInLoading}</p>}
      {dialIn && dialIn !== 'loading' && (
        <section aria-label={t.joinByPhone}>
          <h3>{t.joinByPhone}</h3>
          <p className="dial-in-line">{t.dialInLine(dialIn.first, dialIn.pin)}</p>
          {countries.length > 1 || countries[0]![1].length > 1 ? (
            <dl className="dial-in-numbers" aria-label={t.dialInNumbers}>
              {countries.map(([country, numbers]) => (
                <div key={country}>
                  <dt>{country}</dt>
                  {numbers.map((n) => (
                    <dd key={n}>
                      <a href={`tel:${n.replace(/[^+\d]/g, '')},,${dialIn.pin.replace(/\D/g, '')}%23`}>{n}</a>
                    </dd>
                  ))}
                </div>
              ))}
            </dl>
          ) : null}
        </section>
      )}
    </Dialog>
  );
}
