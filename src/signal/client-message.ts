// One WebSocket text frame from a browser, parsed with the protocol schema: the message, or the `error` reply
// that says why it is refused. Never throws: any text gets one or the other (the fuzz target `ws-message`
// holds it to that).
import { ACCESS_CLIENT_TYPES } from '../protocol/access-messages.ts';
import { AV_MODERATION_CLIENT_TYPES } from '../protocol/av-moderation-messages.ts';
import { MEETING_CLIENT_TYPES } from '../protocol/meeting-messages.ts';
import { E2EE_CLIENT_TYPES } from '../protocol/e2ee-messages.ts';
import { BREAKOUT_CLIENT_TYPES } from '../protocol/breakout-messages.ts';
import { clientMessageSchema, type ClientMessage, type ServerMessage } from '../protocol/signal-messages.ts';

export const KNOWN_CLIENT_TYPES: ReadonlySet<string> = new Set<string>([
  'join',
  'answer',
  'mute',
  'leave',
  'receiver-video-constraints',
  ...MEETING_CLIENT_TYPES,
  ...ACCESS_CLIENT_TYPES,
  ...AV_MODERATION_CLIENT_TYPES,
  ...BREAKOUT_CLIENT_TYPES,
  ...E2EE_CLIENT_TYPES,
]);

export type ParsedClientText = { ok: true; message: ClientMessage } | { ok: false; error: Extract<ServerMessage, { type: 'error' }> };

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const text = issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(message)'}: ${i.message}`)
    .join('; ');
  return text.length > 500 ? text.slice(0, 500) + '…' : text;
}

export function parseClientText(text: string): ParsedClientText {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { type: 'error', code: 'bad-message', message: 'the message is not valid JSON' } };
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const type = json && typeof json === 'object' && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined;
  const message =
    typeof type === 'string' && !KNOWN_CLIENT_TYPES.has(type)
      ? `unknown message type "${type.slice(0, 40)}"`
      : `invalid message: ${describeIssues(parsed.error.issues)}`;
  return { ok: false, error: { type: 'error', code: 'bad-message', message } };
}
