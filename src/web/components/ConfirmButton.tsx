// A button for what cannot be undone (removing someone, ending the meeting for all): the first click asks, in
// place, with the question and a confirming button (and Cancel); only that second click acts.
import { useState } from 'react';
import { useStrings } from '../i18n.ts';

export function ConfirmButton({ label, question, confirmLabel, className, onConfirm }: {
  /** The button's text (and accessible name) before it asks. */
  label: string;
  /** What it asks, e.g. "Remove Ben from the meeting?". */
  question: string;
  /** The confirming button's text. */
  confirmLabel: string;
  className: string;
  onConfirm: () => void;
}) {
  const t = useStrings();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className="primary small danger-fill-inline"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="secondary small" onClick={() => setAsking(false)}>
        {t.cancelDelete}
      </button>
    </span>
  );
}
