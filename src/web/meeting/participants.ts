// Ordering and roles of participants, for the pane and the tiles.
import type { Participant } from '../../protocol/signal-messages.ts';

/** True when the server marks this participant a moderator (`role: 'moderator'`). */
export function isModerator(p: Participant): boolean {
  return (p as { role?: unknown }).role === 'moderator';
}

/** Raised hands first, earliest first; then everyone else, ourselves first, then in joining order. */
export function orderForPane(self: Participant | null, others: readonly Participant[]): Participant[] {
  const all = self ? [self, ...others] : [...others];
  const raised = all.filter((p) => p.handRaisedAt !== undefined).sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  const rest = all.filter((p) => p.handRaisedAt === undefined);
  return [...raised, ...rest];
}
