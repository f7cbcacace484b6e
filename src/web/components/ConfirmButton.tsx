// A button for what cannot be undone (removing someone, ending the meeting for all, deleting a recording): the
// first click asks, in place, with the question and a confirming button (and Cancel); only that second click acts.
import { useState } from 'react';
import { useStrings } from '../i18n.ts';

export function ConfirmButton({ label, ariaLabel, question, confirmLabel, className, onConfirm }: {
  /** The button's text (and accessible name) before it asks. */
  label: string;
  /** Its accessible name when the text alone does not say what it acts on (a table's row). */
  ariaLabel?: string;
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
      <button type="button" className={className} aria-label={ariaLabel} onClick={() => setAsking(true)}>
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
        {t.cancel}
      </button>
    </span>
  );
}
