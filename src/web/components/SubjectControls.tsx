// The meeting's subject: shown to everyone at the top of the meeting and in the document title
// ("<subject> | Tertulia", as Jitsi), and the moderators' field to set or clear it (in the moderator tools).
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { MAX_SUBJECT } from '../../protocol/meeting-messages.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { subjectFor } from '../meeting/subject-store.ts';
import './polls.css';

/** `room`: the name the header shows (a breakout room's, while in one), the title's when there is no subject. */
export function MeetingSubject({ conference, room = conference.room }: { conference: Conference; room?: string }) {
  const t = useStrings();
  const store = subjectFor(conference);
  const { subject, localSubject } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const shown = localSubject || subject;
  useEffect(() => {
    document.title = `${shown || room} | Tertulia`;
  }, [shown, room]);
  useEffect(() => () => void (document.title = `${conference.room} | Tertulia`), [conference.room]);
  return (
    <span className="meeting-subject" role="status" aria-label={shown ? t.subjectLabel(shown) : t.meetingSubject} title={shown || undefined} hidden={!shown}>
      {shown}
    </span>
  );
}

/** Moderators: a field with the subject, "Set subject" and, while one is set, "Clear subject". */
export function SubjectForm({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = subjectFor(conference);
  const { subject } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [text, setText] = useState(subject);
  const id = useId();
  useEffect(() => setText(subject), [subject]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    store.set(text);
  };
  return (
    <form className="access-actions wrap" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        {t.meetingSubject}
      </label>
      <input id={id} type="text" maxLength={MAX_SUBJECT} autoComplete="off" placeholder={t.meetingSubject} value={text} onChange={(e) => setText(e.target.value)} />
      <button type="submit" className="secondary small" disabled={text.trim() === subject}>
        {t.setSubject}
      </button>
      {subject && (
        <button type="button" className="secondary small" onClick={() => store.set('')}>
          {t.clearSubject}
        </button>
      )}
    </form>
  );
}
