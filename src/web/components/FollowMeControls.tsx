// Follow me: the moderators' switch ("Everyone follows me", in the moderator tools) and the header's word of it
// ("Following Ana" for the others, "Everyone follows you" for the leader). meeting/follow-me-store.ts applies and
// sends the layouts.
import { useSyncExternalStore } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { followMeFor } from '../meeting/follow-me-store.ts';

/** Who leads, and the leader's name as this page last saw it (null: not seen; the leader may be away a moment). */
function useLeader(conference: Conference): { leader: string | null; leading: boolean; name: string | null } {
  const store = followMeFor(conference);
  const { leader, leaderName } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const c = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  const leading = leader !== null && leader === c.selfId;
  return { leader, leading, name: leaderName };
}

/**
 * Moderator tools: "Everyone follows me" (ticked: this moderator leads; ticking while another leads takes it over),
 * and, while another moderator leads, "Stop follow me" to end it for everyone.
 */
export function FollowMeSwitch({ conference }: { conference: Conference }) {
  const t = useStrings();
  const { leader, leading, name } = useLeader(conference);
  const store = followMeFor(conference);
  const other = leader !== null && !leading;
  return (
    <>
      <label className="access-check">
        <input type="checkbox" checked={leading} onChange={(e) => store.setEnabled(e.target.checked)} />
        {t.followMe}
      </label>
      {other ? (
        <span className="access-actions wrap">
          <small className="field-hint">{t.everyoneFollows(name ?? '…')}</small>
          <button type="button" className="secondary small" onClick={() => store.setEnabled(false)}>
            {t.stopFollowMe}
          </button>
        </span>
      ) : (
        <small className="field-hint">{t.followMeHint}</small>
      )}
    </>
  );
}

/** In the meeting header while someone is followed. */
export function FollowMeIndicator({ conference }: { conference: Conference }) {
  const t = useStrings();
  const { leader, leading, name } = useLeader(conference);
  if (leading) return <span className="status-pill" role="status">{t.everyoneFollowsYou}</span>;
  if (leader === null) return null;
  // (while the leader is away a moment, follow me goes on: still said, by the name last seen)
  return (
    <span className="status-pill" role="status" title={t.followingHint}>
      {name === null ? t.followingModerator : t.followingLeader(name)}
    </span>
  );
}
