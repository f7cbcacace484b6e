// The chat of the meeting: the room's messages (history first), private messages, the unread count and
// whether the chat panel is open.
import type { ChatMessage } from '../../protocol/meeting-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

/** Messages kept in the browser (the server keeps the room's last 200; private ones add to that). */
const MAX_KEPT = 500;

export interface ChatState {
  messages: readonly ChatMessage[];
  unread: number;
  open: boolean;
}

export class ChatStore extends Store<ChatState> {
  readonly #conference: Conference;
  readonly dispose: () => void;

  constructor(conference: Conference) {
    super({ messages: [], unread: 0, open: false });
    this.#conference = conference;
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'chat-history') {
        this.update({ messages: m.messages.slice(-MAX_KEPT) });
      } else if (m.type === 'chat') {
        const mine = m.message.from === conference.state.selfId;
        const messages = [...this.state.messages, m.message].slice(-MAX_KEPT);
        this.update({ messages, unread: this.state.open || mine ? this.state.unread : this.state.unread + 1 });
      }
    });
  }

  setOpen(open: boolean): void {
    this.update({ open, unread: open ? 0 : this.state.unread });
  }

  toggle(): void {
    this.setOpen(!this.state.open);
  }

  /** Sends a message to the room, or privately to participant `to`. */
  send(text: string, to?: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    this.#conference.sendMessage(to ? { type: 'chat', text: trimmed, to } : { type: 'chat', text: trimmed });
  }
}

/** The one chat of a conference (created on first use; lives as long as the conference). */
export const chatStoreFor = perConference((conference) => new ChatStore(conference));
