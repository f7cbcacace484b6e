// Signal's state that must outlive one signal process, kept in the bus's key-value store (JetStream over NATS,
// bus/key-value.ts): resume tokens (who each participant is, in which room, with which role) and each room's
// chat history. Another signal instance (or this one restarted) reads them when a browser comes back.
//
// - A resume token is 24 random bytes (base64url) given in `joined`; only its SHA-256 is a key, so the store
//   never holds a usable token. It stays valid while the participant is in the meeting and after its socket
//   dropped (TTL of the bucket after the last write), and is forgotten when the participant leaves on purpose,
//   is removed, or the meeting ends.
// - Chat history: the room's last CHAT_HISTORY_LIMIT public messages, under the room key's hash; appended with
//   compare-and-set (two instances never lose a message), forgotten when the room ends (its last participant
//   left on purpose). Private messages are never stored.
// - A room's policy (lock password, lobby, self-unmute, cameras stopped) under the room key's hash: written on
//   each change, read when an instance starts or takes over the room, forgotten with the chat.
// - A room's whiteboard and notes (board.ts) are in a bucket of their own (board-store.ts, `boards`): read when an
//   instance starts or takes over the room, forgotten with the chat.
// - Store failures are logged and never stop the meeting: the participant just cannot be resumed, or the
//   history is what this process had.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Bus, Json } from '../bus/bus.ts';
import type { KeyValue } from '../bus/key-value.ts';
import { keyHash, storeFailed, withTimeout } from './store-calls.ts';
import type { Logger } from '../log.ts';
import { CHAT_HISTORY_LIMIT, chatMessageSchema, type ChatMessage } from '../protocol/meeting-messages.ts';
import { roleSchema } from '../protocol/access-messages.ts';
import { SharedRoomItems } from './shared-room-items.ts';
import { BoardStore } from './board-store.ts';
import { storedPolicySchema, type StoredPolicy } from '../protocol/signal-fanout-messages.ts';

export const ROOM_STATE_BUCKET = 'tertulia_signal';
/** An entry not written for this long is dropped by the store (a dropped socket's token, an idle room's chat). */
export const ROOM_STATE_TTL_SECONDS = 12 * 3600;
export const ROOM_STATE_MAX_VALUE_BYTES = 1024 * 1024;
const MAX_VALUE_BYTES = ROOM_STATE_MAX_VALUE_BYTES;
/**
 * The whole bucket's cap: past it, writes are refused (logged as `store full`: no new resume tokens, chat
 * history or shared items are kept until entries expire or rooms end; meetings go on).
 */
export const ROOM_STATE_MAX_BYTES = 256 * 1024 * 1024;

/** Who a resume token resumes. */
export const resumeRecordSchema = z.object({
  room: z.string(),
  roomName: z.string(),
  participantId: z.string(),
  displayName: z.string(),
  role: roleSchema,
  authenticated: z.boolean(),
  /** Signed in (accounts mode): the account and its password stamp then; a resume re-checks both. */
  account: z.object({ username: z.string().max(256), stamp: z.string().max(64) }).optional(),
});
export type ResumeRecord = z.infer<typeof resumeRecordSchema>;

const chatHistorySchema = z.array(chatMessageSchema);

export function newResumeToken(): string {
  return randomBytes(24).toString('base64url');
}

const resumeKey = (token: string) => `resume.${keyHash(token)}`;
const chatKey = (roomKey: string) => `chat.${keyHash(roomKey)}`;
const policyKey = (roomKey: string) => `policy.${keyHash(roomKey)}`;

export class RoomState {
  private readonly store: KeyValue;
  /** True when the store outlives this process (JetStream). */
  readonly durable: boolean;
  private readonly log: Logger;
  /** Room items every instance sees (subject, polls, recording flags), in the same store. */
  readonly items: SharedRoomItems;
  /** The rooms' whiteboards and notes, in their own bucket. */
  readonly boards: BoardStore;

  private constructor(store: KeyValue, durable: boolean, boards: BoardStore, log: Logger) {
    this.store = store;
    this.durable = durable;
    this.log = log;
    this.items = new SharedRoomItems(store, log);
    this.boards = boards;
  }

  static async open(bus: Bus, log: Logger): Promise<RoomState> {
    const { store, durable } = await bus.keyValue(ROOM_STATE_BUCKET, { ttlSeconds: ROOM_STATE_TTL_SECONDS, maxValueBytes: MAX_VALUE_BYTES, maxBytes: ROOM_STATE_MAX_BYTES });
    log.info({ durable }, durable ? 'room state kept in JetStream: browsers resume on any signal instance' : 'room state kept in this process');
    return new RoomState(store, durable, await BoardStore.open(bus, log), log);
  }

  /** The participant a token resumes, or undefined (unknown, expired, or the store cannot be read). */
  resume(token: string): Promise<ResumeRecord | undefined> {
    return this.read(resumeKey(token), resumeRecordSchema, 'resume lookup');
  }

  /** The value at `key` when it passes `schema`; undefined when absent, malformed or unreadable (logged). */
  private async read<T>(key: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
    try {
      const e = await withTimeout(this.store.get(key), what);
      const parsed = schema.safeParse(e?.value);
      return parsed.success ? parsed.data : undefined;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, `${what} failed`);
      return undefined;
    }
  }

  /** Writes (or rewrites, after a role or name change) who `token` resumes. */
  remember(token: string, record: ResumeRecord): void {
    this.quietly('resume save', this.store.put(resumeKey(token), record as unknown as Json));
  }

  forget(token: string): void {
    this.quietly('resume forget', this.store.delete(resumeKey(token)));
  }

  async chatHistory(roomKey: string): Promise<ChatMessage[]> {
    return (await this.read(chatKey(roomKey), chatHistorySchema, 'chat history read')) ?? [];
  }

  appendChat(roomKey: string, message: ChatMessage): void {
    this.quietly(
      'chat save',
      this.store.update(chatKey(roomKey), (old) => {
        const parsed = chatHistorySchema.safeParse(old ?? []);
        const list = parsed.success ? parsed.data : [];
        if (!list.some((m) => m.id === message.id)) list.push(message);
        return list.slice(-CHAT_HISTORY_LIMIT) as unknown as Json;
      }),
    );
  }

  forgetRoom(roomKey: string): void {
    this.quietly('chat forget', this.store.delete(chatKey(roomKey)));
    this.quietly('policy forget', this.store.delete(policyKey(roomKey)));
    this.items.forgetRoom(roomKey);
    this.boards.forget(roomKey);
  }

  /** The room's stored policy, or undefined (none stored, or the store cannot be read). */
  policy(roomKey: string): Promise<StoredPolicy | undefined> {
    return this.read(policyKey(roomKey), storedPolicySchema, 'room policy read');
  }

  savePolicy(roomKey: string, policy: StoredPolicy): void {
    this.quietly('policy save', this.store.put(policyKey(roomKey), policy as unknown as Json));
  }

  private quietly(what: string, p: Promise<unknown>): void {
    withTimeout(p, what).catch((e: unknown) => storeFailed(this.log, what, e));
  }
}
