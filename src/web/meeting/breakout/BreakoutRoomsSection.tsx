// Breakout rooms in the participants pane (as Jitsi Meet's): the rooms and who is in each; "Join" on a room when
// the moderator lets participants choose (moderators always); for moderators "Add breakout room", "Auto assign to
// breakout rooms", "Let participants choose", each room's "Rename"/"Close"/"Remove", "Close all breakout rooms",
// and beside each person a "Move <name> to" list (the main room or a breakout room). `BreakoutBanner`, over the
// video while in a breakout room, says which one and has "Leave breakout room". Names are React text (escaped).
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { MAX_BREAKOUT_NAME, type BreakoutRoom } from '../../../protocol/breakout-messages.ts';
import { accessFor } from '../../access/access-client.ts';
import { useStrings, type Strings } from '../../i18n.ts';
import type { Conference } from '../../media/conference.ts';
import { breakoutsFor, type BreakoutStore } from './breakout-store.ts';

type Person = BreakoutRoom['participants'][number];

/** The first "Breakout room N" not taken yet. */
function nextName(t: Strings, rooms: readonly BreakoutRoom[]): string {
  const taken = new Set(rooms.map((r) => r.name));
  let n = rooms.length + 1;
  while (taken.has(t.breakoutRoomDefaultName(n))) n++;
  return t.breakoutRoomDefaultName(n);
}

function People(props: { people: readonly Person[]; where: string | null; rooms: readonly BreakoutRoom[]; store: BreakoutStore; moderator: boolean; selfId: string | null }) {
  const t = useStrings();
  const { people, where, rooms, store, moderator, selfId } = props;
  if (people.length === 0) return null;
  return (
    <ul className="breakout-people">
      {people.map((p) => (
        <li key={p.id}>
          <span className="person-name">{p.id === selfId ? `${p.displayName} (${t.you})` : p.displayName}</span>
          {moderator && p.staysInMain === true && <span className="breakout-stays">{t.staysInMainRoom}</span>}
          {moderator && p.id !== selfId && p.staysInMain !== true && (
            <select aria-label={t.moveParticipant(p.displayName)} value={where ?? ''} onChange={(e) => store.move(p.id, e.target.value || null)}>
              <option value="">{t.mainRoom}</option>
              {rooms.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          )}
        </li>
      ))}
    </ul>
  );
}

function RenameForm({ room, store, done }: { room: BreakoutRoom; store: BreakoutStore; done: () => void }) {
  const t = useStrings();
  const [draft, setDraft] = useState(room.name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = draft.trim();
    if (name && name !== room.name) store.rename(room.id, name);
    done();
  };
  return (
    <form className="breakout-rename" onSubmit={submit}>
      <input aria-label={t.breakoutRoomName} value={draft} maxLength={MAX_BREAKOUT_NAME} autoFocus onChange={(e) => setDraft(e.target.value)} />
      <button type="submit">{t.breakoutSave}</button>
    </form>
  );
}

export function BreakoutRoomsSection({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const { role } = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const store = breakoutsFor(conference);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const selfId = useSyncExternalStore(conference.subscribe, conference.getSnapshot).selfId;
  const [renaming, setRenaming] = useState<string | null>(null);
  const moderator = role === 'moderator';
  const { rooms, current } = state;
  if (!moderator && rooms.length === 0) return null;
  const people = { rooms, store, moderator, selfId };

  return (
    <section className="breakout-rooms" aria-label={t.breakoutRooms}>
      <h3 className="panel-subtitle">{t.breakoutRooms}</h3>
      {moderator && (
        <div className="breakout-actions">
          <button type="button" onClick={() => store.add(nextName(t, rooms))}>
            {t.addBreakoutRoom}
          </button>
          {rooms.length > 0 && (
            <button type="button" onClick={() => store.autoAssign()}>
              {t.autoAssign}
            </button>
          )}
          {rooms.length > 0 && (
            <button type="button" onClick={() => store.closeAll()}>
              {t.closeAllBreakoutRooms}
            </button>
          )}
          <label className="breakout-choice">
            <input type="checkbox" checked={state.participantsCanChoose} onChange={(e) => store.allowChoice(e.target.checked)} />
            {t.letParticipantsChoose}
          </label>
        </div>
      )}
      {rooms.length === 0 && <p className="breakout-empty">{t.noBreakoutRooms}</p>}
      <ul className="breakout-list" aria-label={t.breakoutRooms}>
        {(moderator || current !== null) && (
          <li className="breakout-room" aria-label={t.mainRoom}>
            <div className="breakout-room-head">
              <span className="breakout-room-name">{t.mainRoom}</span>
              <span className="breakout-count">{t.breakoutPeople(state.mainParticipants.length)}</span>
            </div>
            {moderator && <People people={state.mainParticipants} where={null} {...people} />}
          </li>
        )}
        {rooms.map((r) => (
          <li key={r.id} className={`breakout-room${r.id === current ? ' current' : ''}`} aria-label={r.name}>
            <div className="breakout-room-head">
              <span className="breakout-room-name">{r.name}</span>
              <span className="breakout-count">{t.breakoutPeople(r.participants.length)}</span>
            </div>
            <div className="breakout-room-actions">
              {r.id !== current && (moderator || state.participantsCanChoose) && (
                <button type="button" aria-label={t.joinBreakoutRoom(r.name)} onClick={() => store.join(r.id)}>
                  {t.breakoutJoin}
                </button>
              )}
              {moderator && (
                <>
                  <button type="button" aria-label={t.renameBreakoutRoom(r.name)} onClick={() => setRenaming(renaming === r.id ? null : r.id)}>
                    {t.breakoutRename}
                  </button>
                  <button type="button" aria-label={t.closeBreakoutRoom(r.name)} onClick={() => store.close(r.id)}>
                    {t.breakoutClose}
                  </button>
                  <button type="button" aria-label={t.removeBreakoutRoom(r.name)} onClick={() => store.remove(r.id)}>
                    {t.breakoutRemove}
                  </button>
                </>
              )}
            </div>
            {renaming === r.id && <RenameForm room={r} store={store} done={() => setRenaming(null)} />}
            <People people={r.participants} where={r.id} {...people} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Over the video while in a breakout room: which one, and the way back to the main room. */
export function BreakoutBanner({ conference }: { conference: Conference }) {
  const t = useStrings();
  const store = breakoutsFor(conference);
  useSyncExternalStore(store.subscribe, store.getSnapshot);
  const room = store.currentRoom;
  if (!room) return null;
  return (
    <div className="breakout-banner">
      <p role="status" aria-label={t.inBreakoutRoom(room.name)}>
        {t.inBreakoutRoom(room.name)}
      </p>
      <button type="button" className="secondary small" onClick={() => store.leave()}>
        {t.leaveBreakoutRoom}
      </button>
    </div>
  );
}
