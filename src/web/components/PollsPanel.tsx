// Polls in the meeting (as Jitsi Meet's polls pane): the toolbar button with the count of new polls, and the
// pane with "Create a poll", every poll of the meeting, answering (one option; "Change vote" while it is open)
// and the results (counts and percentages, never who voted). Its creator or a moderator closes a poll; closed
// polls stay with their final results. All text is plain React text (escaped).
import { useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { MAX_POLL_OPTION, MAX_POLL_OPTIONS, MAX_POLL_QUESTION, MIN_POLL_OPTIONS, repeatedPollOption, type Poll } from '../../protocol/poll-messages.ts';
import { accessFor } from '../access/access-client.ts';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { pollsFor, type PollsStore } from '../meeting/polls-store.ts';
import { Action } from './MeetingActions.tsx';
import './polls.css';

export function PollsButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const polls = pollsFor(conference);
  const { open, unseen } = useSyncExternalStore(polls.subscribe, polls.getSnapshot);
  return (
    <span className="badge-holder">
      <Action label={open ? t.closePolls : t.openPolls} on={open} expanded={open} onClick={() => polls.toggle()}>
        <svg className="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M5 20V10M12 20V4M19 20v-7" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" fill="none" />
        </svg>
      </Action>
      {unseen > 0 && (
        <span className="badge" role="status" aria-label={t.newPolls(unseen)}>
          {unseen > 99 ? '99+' : unseen}
        </span>
      )}
    </span>
  );
}

export function PollsPanel({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = pollsFor(conference);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const access = accessFor(conference);
  const { role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const [creating, setCreating] = useState(false);
  return (
    <aside className="side-panel polls-panel" aria-label={t.polls}>
      <h2 className="panel-title">{t.polls}</h2>
      {creating ? (
        <CreatePoll store={store} onDone={() => setCreating(false)} />
      ) : (
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t.createPoll}
        </button>
      )}
      {state.polls.length === 0 && !creating && <p className="panel-empty">{t.noPolls}</p>}
      <ol className="poll-list" aria-label={t.polls}>
        {[...state.polls].reverse().map((p) => (
          <PollItem key={p.id} poll={p} store={store} answer={state.answers[p.id]} canClose={role === 'moderator' || state.mine.includes(p.id)} />
        ))}
      </ol>
    </aside>
  );
}

function CreatePoll({ store, onDone }: { store: PollsStore; onDone: () => void }) {
  const t = useStrings();
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState<string[]>(['', '']);
  // the server refuses a poll with two options alike: said at the option, before it is sent
  const repeated = repeatedPollOption(options);
  const repeatedId = useId();
  const ready = question.trim() !== '' && options.every((o) => o.trim() !== '') && repeated < 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    store.create(question, options);
    onDone();
  };
  return (
    <form className="poll-create" aria-label={t.createPoll} onSubmit={submit}>
      <label className="field-label">
        {t.pollQuestion}
        <textarea value={question} maxLength={MAX_POLL_QUESTION} rows={2} placeholder={t.pollQuestionPlaceholder} onChange={(e) => setQuestion(e.target.value)} autoFocus />
      </label>
      {options.map((o, i) => (
        <div key={i} className="poll-option-row">
          <input
            type="text"
            aria-label={t.pollOption(i + 1)}
            placeholder={t.pollOption(i + 1)}
            value={o}
            maxLength={MAX_POLL_OPTION}
            onChange={(e) => setOptions(options.map((x, j) => (j === i ? e.target.value : x)))}
            {...(repeated === i ? { 'aria-invalid': true, 'aria-describedby': repeatedId } : {})}
          />
          {options.length > MIN_POLL_OPTIONS && (
            <button type="button" className="secondary small" aria-label={t.removeOption(i + 1)} onClick={() => setOptions(options.filter((_, j) => j !== i))}>
              ×
            </button>
          )}
          {repeated === i && (
            <p id={repeatedId} className="field-error" role="alert">
              {t.pollOptionRepeated}
            </p>
          )}
        </div>
      ))}
      <div className="poll-actions">
        <button type="button" className="secondary small" disabled={options.length >= MAX_POLL_OPTIONS} onClick={() => setOptions([...options, ''])}>
          {t.addOption}
        </button>
        <button type="button" className="secondary small" onClick={onDone}>
          {t.cancel}
        </button>
        <button type="submit" className="primary small" disabled={!ready}>
          {t.sendPoll}
        </button>
      </div>
    </form>
  );
}

function PollItem({ poll, store, answer, canClose }: { poll: Poll; store: PollsStore; answer: number | undefined; canClose: boolean }) {
  const t = useStrings();
  const [answering, setAnswering] = useState(false);
  const [showResults, setShowResults] = useState(false);
  const titleId = useId();
  const showForm = !poll.closed && (answering || (answer === undefined && !showResults));
  return (
    <li className={`poll${poll.closed ? ' closed' : ''}`} aria-labelledby={titleId}>
      <h3 id={titleId} className="poll-question">
        {poll.question}
      </h3>
      <p className="poll-meta">
        <span>{t.pollBy(poll.creatorName)}</span>
        {poll.closed && <span className="person-tag">{t.pollClosed}</span>}
      </p>
      {showForm ? (
        <AnswerForm
          poll={poll}
          answer={answer}
          onVote={(option) => {
            if (option !== answer) store.answer(poll.id, option);
            setAnswering(false);
          }}
          onSkip={() => {
            setAnswering(false);
            setShowResults(true);
          }}
        />
      ) : (
        <Results poll={poll} answer={answer} />
      )}
      {!poll.closed && (
        <div className="poll-actions">
          {!showForm && answer !== undefined && (
            <button type="button" className="secondary small" onClick={() => setAnswering(true)}>
              {t.changeVote}
            </button>
          )}
          {!showForm && answer === undefined && (
            <button type="button" className="secondary small" onClick={() => setShowResults(false)}>
              {t.vote}
            </button>
          )}
          {canClose && (
            <button type="button" className="secondary small" onClick={() => store.close(poll.id)}>
              {t.closePoll}
            </button>
          )}
        </div>
      )}
    </li>
  );
}

function AnswerForm({ poll, answer, onVote, onSkip }: { poll: Poll; answer: number | undefined; onVote: (option: number) => void; onSkip: () => void }) {
  const t = useStrings();
  const [choice, setChoice] = useState<number | undefined>(answer);
  const name = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (choice !== undefined) onVote(choice);
  };
  return (
    <form onSubmit={submit}>
      <fieldset className="poll-choices">
        <legend className="visually-hidden">{t.pollAnswers}</legend>
        {poll.options.map((o, i) => (
          <label key={i} className="poll-choice">
            <input type="radio" name={name} checked={choice === i} onChange={() => setChoice(i)} />
            <span>{o.text}</span>
          </label>
        ))}
      </fieldset>
      <div className="poll-actions">
        <button type="submit" className="primary small" disabled={choice === undefined}>
          {t.vote}
        </button>
        <button type="button" className="secondary small" onClick={onSkip}>
          {t.pollResults}
        </button>
      </div>
    </form>
  );
}

function Results({ poll, answer }: { poll: Poll; answer: number | undefined }) {
  const t = useStrings();
  return (
    <>
      <ul className="poll-results" aria-label={t.pollResults}>
        {poll.options.map((o, i) => {
          const percent = poll.voters > 0 ? Math.round((o.votes * 100) / poll.voters) : 0;
          const label = t.optionResult(o.text, o.votes, percent) + (i === answer ? ` (${t.yourAnswer})` : '');
          return (
            <li key={i} aria-label={label} className={i === answer ? 'mine' : undefined}>
              <div className="poll-result-line" aria-hidden="true">
                <span className="poll-result-text">
                  {o.text}
                  {i === answer && <span className="poll-yours"> ({t.yourAnswer})</span>}
                </span>
                <span>
                  {o.votes} ({percent}%)
                </span>
              </div>
              <div className="poll-bar" aria-hidden="true">
                <div style={{ width: `${percent}%` }} />
              </div>
            </li>
          );
        })}
      </ul>
      <p className="poll-meta">{t.pollVoters(poll.voters)}</p>
    </>
  );
}
