// The chat panel: the room's messages (links clickable, everything else plain text), and a form to send to
// everyone or privately to one participant.
import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { MAX_CHAT_TEXT, type ChatMessage } from '../../protocol/meeting-messages.ts';
import type { Participant } from '../../protocol/signal-messages.ts';
import { useStrings } from '../i18n.ts';
import { splitLinks } from '../links.ts';
import type { ChatStore } from '../meeting/chat-store.ts';

function MessageText({ text }: { text: string }) {
  return (
    <>
      {splitLinks(text).map((p, i) =>
        p.kind === 'link' ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer">
            {p.text}
          </a>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}

function timeOf(at: number, lang: string): string {
  try {
    return new Date(at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  } catch {
    return '';
  }
}

function Message({ m, selfId }: { m: ChatMessage; selfId: string | null }) {
  const t = useStrings();
  const mine = m.from === selfId;
  const from = mine ? `${m.fromName} (${t.you})` : m.fromName;
  const privateNote = m.to ? (mine ? t.privateTo(m.toName ?? '') : t.privateFrom(m.fromName)) : null;
  return (
    <li className={`chat-message${mine ? ' mine' : ''}${m.to ? ' private' : ''}`}>
      <div className="chat-meta">
        <span className="chat-from">{from}</span>
        <time dateTime={new Date(m.at).toISOString()}>{timeOf(m.at, document.documentElement.lang || 'en')}</time>
      </div>
      {privateNote && <div className="chat-private">{privateNote}</div>}
      <p className="chat-text">
        <MessageText text={m.text} />
      </p>
    </li>
  );
}

export function ChatPanel({ chat, selfId, participants }: { chat: ChatStore; selfId: string | null; participants: readonly Participant[] }) {
  const t = useStrings();
  const state = useSyncExternalStore(chat.subscribe, chat.getSnapshot);
  const [text, setText] = useState('');
  const [to, setTo] = useState('');
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const toId = useId();

  useEffect(() => {
    inputRef.current?.focus();
  }, []);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.messages.length]);
  // a recipient who left: back to everyone
  const recipient = to && participants.some((p) => p.id === to) ? to : '';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    chat.send(text, recipient || undefined);
    setText('');
  };

  return (
    <aside className="side-panel chat-panel" aria-label={t.chat}>
      <h2 className="panel-title">{t.chat}</h2>
      <ol className="chat-list" ref={listRef} role="log" aria-label={t.chat}>
        {state.messages.map((m) => (
          <Message key={m.id} m={m} selfId={selfId} />
        ))}
      </ol>
      {state.messages.length === 0 && <p className="panel-empty">{t.noMessages}</p>}
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor={toId} className="field-label">
          {t.sendTo}
        </label>
        <select id={toId} value={recipient} onChange={(e) => setTo(e.target.value)}>
          <option value="">{t.everyone}</option>
          {participants.map((p) => (
            <option key={p.id} value={p.id}>
              {p.displayName}
            </option>
          ))}
        </select>
        <div className="chat-send-row">
          <input
            ref={inputRef}
            type="text"
            aria-label={t.typeMessage}
            placeholder={t.typeMessage}
            value={text}
            maxLength={MAX_CHAT_TEXT}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="primary" disabled={!text.trim()}>
            {t.send}
          </button>
        </div>
      </form>
    </aside>
  );
}
