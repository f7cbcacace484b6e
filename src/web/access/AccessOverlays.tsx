// In the meeting: moderator tools (room settings, per-person actions; opened by ModeratorToolsButton in the
// meeting header), the lobby list for moderators, the moderators' requests to us (microphone muted, camera
// off, please stop the camera) and "you are muted, are you trying to speak?". The overlays sit over the video
// area, never over the chat or people panel.
import { useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useStrings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { accessFor, type AccessClient, type AccessState } from './access-client.ts';
import './access.css';
import { SubjectForm } from '../components/SubjectControls.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { AvModerationNotices } from '../components/AvModerationControls.tsx';
import { TalkWhileMutedNotice } from '../components/MicrophoneNotices.tsx';
import { FollowMeSwitch } from '../components/FollowMeControls.tsx';

export function AccessOverlays({ conference }: { conference: Conference }) {
  const access = accessFor(conference);
  const a = useSyncExternalStore(access.subscribe, access.getSnapshot);
  const c = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  if (c.status !== 'joined') return null;
  return (
    <div className="access-overlays">
      {a.role === 'moderator' && <LobbyList access={access} state={a} />}
      <RequestsToMe access={access} state={a} />
      <AvModerationNotices conference={conference} role={a.role} />
      <TalkWhileMutedNotice conference={conference} />
      {a.role === 'moderator' && <ModeratorTools access={access} state={a} conference={conference} />}
    </div>
  );
}

function LobbyList({ access, state }: { access: AccessClient; state: AccessState }) {
  const t = useStrings();
  if (state.knocks.length === 0) return null;
  return (
    <section className="access-box lobby-list" aria-label={t.lobbyWaiting}>
      <h2>{t.lobbyWaiting}</h2>
      <ul>
        {state.knocks.map((k) => (
          <li key={k.id}>
            <span>{t.wantsToJoin(k.displayName)}</span>
            <span className="access-actions">
              <button type="button" className="primary small" aria-label={t.admit(k.displayName)} onClick={() => access.admit(k.id)}>
                {t.admitShort}
              </button>
              <button type="button" className="secondary small" aria-label={t.deny(k.displayName)} onClick={() => access.deny(k.id)}>
                {t.denyShort}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RequestsToMe({ access, state }: { access: AccessClient; state: AccessState }) {
  const t = useStrings();
  const titleId = useId();
  return (
    <>
      {state.mutedBy !== null && (
        <div className="access-box access-notice" role="status">
          <span>{t.mutedBy(state.mutedBy)}</span>
          {!state.room.selfUnmuteAllowed && <span>{t.unmuteDisabled}</span>}
          <button type="button" className="link-button" onClick={() => access.dismissMuted()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {state.unmuteLocked !== null && state.mutedBy === null && state.role !== 'moderator' && !state.room.selfUnmuteAllowed && (
        <div className="access-box access-notice" role="status">
          <span>{state.unmuteLocked === 'joined' ? t.joinedMutedLocked : t.unmuteDisabled}</span>
          <button type="button" className="link-button" onClick={() => access.dismissMuted()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {state.cameraOffAtJoin && state.cameraOffBy === null && state.role !== 'moderator' && !state.room.selfUnmuteAllowed && (
        <div className="access-box access-notice" role="status">
          <span>{t.joinedCameraOffLocked}</span>
          <button type="button" className="link-button" onClick={() => access.dismissMuted()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {state.cameraOffBy !== null && (
        <div className="access-box access-notice" role="status">
          <span>{t.cameraOffBy(state.cameraOffBy)}</span>
          {!state.room.selfUnmuteAllowed && <span>{t.cameraOnDisabled}</span>}
          <button type="button" className="link-button" onClick={() => access.dismissMuted()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {state.cameraRequestBy !== null && (
        <div className="access-box access-notice" role="alertdialog" aria-labelledby={titleId}>
          <span id={titleId}>{t.cameraRequest(state.cameraRequestBy)}</span>
          <span className="access-actions">
            <button type="button" className="primary small" onClick={() => access.stopCameraAsAsked()}>
              {t.stopMyCamera}
            </button>
            <button type="button" className="secondary small" onClick={() => access.dismissCameraRequest()}>
              {t.keepCameraOn}
            </button>
          </span>
        </div>
      )}
    </>
  );
}

/** The id of the moderator tools panel, for its button's aria-controls (one meeting per page). */
const TOOLS_PANEL_ID = 'moderator-tools';

/** The header's "Moderator tools" toggle (moderators only). */
export function ModeratorToolsButton({ conference }: { conference: Conference }) {
  const t = useStrings();
  const access = accessFor(conference);
  const a = useSyncExternalStore(access.subscribe, access.getSnapshot);
  if (a.role !== 'moderator') return null;
  return (
    <button
      type="button"
      className="secondary moderator-toggle"
      aria-expanded={a.toolsOpen}
      aria-controls={TOOLS_PANEL_ID}
      aria-label={a.toolsOpen ? t.closeModeratorTools : t.moderatorTools}
      onClick={() => access.setToolsOpen(!a.toolsOpen)}
    >
      {t.moderatorTools}
    </button>
  );
}

function ModeratorTools({ access, state, conference }: { access: AccessClient; state: AccessState; conference: Conference }) {
  const t = useStrings();
  const [password, setPassword] = useState('');
  const passId = useId();
  const c = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  const lock = (e: FormEvent) => {
    e.preventDefault();
    if (password) {
      access.lockRoom(password);
      setPassword('');
    }
  };
  return (
    <>
      {state.toolsOpen && (
        <aside id={TOOLS_PANEL_ID} className="access-box moderator-panel" aria-label={t.moderatorTools}>
          <h2>{t.moderatorTools}</h2>
          <div className="access-actions wrap">
            <button type="button" className="secondary small" onClick={() => access.muteEveryone()}>
              {t.muteEveryone}
            </button>
            <button type="button" className="secondary small" onClick={() => access.muteEveryone('video')}>
              {t.stopEveryonesVideo}
            </button>
            <button type="button" className="secondary small" onClick={() => access.setLobby(!state.room.lobby)}>
              {state.room.lobby ? t.disableLobby : t.enableLobby}
            </button>
          </div>
          <label className="access-check">
            <input type="checkbox" checked={state.room.selfUnmuteAllowed} onChange={(e) => access.setSelfUnmute(e.target.checked)} />
            {t.allowSelfUnmute}
          </label>
          <FollowMeSwitch conference={conference} />
          {state.room.locked ? (
            <div className="access-actions wrap">
              <span>
                {t.lockedWith} <code>{state.room.password ?? ''}</code>
              </span>
              <button type="button" className="secondary small" onClick={() => access.unlockRoom()}>
                {t.unlockRoom}
              </button>
            </div>
          ) : (
            <form className="access-actions wrap" onSubmit={lock}>
              <label htmlFor={passId} className="visually-hidden">
                {t.newMeetingPassword}
              </label>
              <input id={passId} type="text" maxLength={64} autoComplete="off" placeholder={t.newMeetingPassword} value={password} onChange={(e) => setPassword(e.target.value)} />
              <button type="submit" className="secondary small" disabled={!password}>
                {t.lockRoom}
              </button>
            </form>
          )}
          <SubjectForm conference={conference} />
          <h3>{t.peopleInMeeting}</h3>
          <ul className="moderator-people">
            {c.participants.map((p) => (
              <li key={p.id}>
                <span className="person-name">
                  {p.displayName}
                  {p.role === 'moderator' && <span className="person-role"> ({t.isModerator})</span>}
                </span>
                <span className="access-actions wrap">
                  <button type="button" className="secondary small" disabled={p.audioMuted} onClick={() => access.muteParticipant(p.id)}>
                    {t.muteParticipant(p.displayName)}
                  </button>
                  <button type="button" className="secondary small" disabled={p.videoMuted} onClick={() => access.askToStopCamera(p.id)}>
                    {t.askStopCamera(p.displayName)}
                  </button>
                  {p.role !== 'moderator' && (
                    <button type="button" className="secondary small" onClick={() => access.grantModerator(p.id)}>
                      {t.makeModerator(p.displayName)}
                    </button>
                  )}
                  <ConfirmButton
                    label={t.removeParticipant(p.displayName)}
                    question={t.confirmRemove(p.displayName)}
                    confirmLabel={t.removeShort}
                    className="secondary small danger-text"
                    onConfirm={() => access.removeParticipant(p.id)}
                  />
                </span>
              </li>
            ))}
          </ul>
          <ConfirmButton
            label={t.endMeetingForAll}
            question={t.confirmEndMeeting}
            confirmLabel={t.endMeetingShort}
            className="primary danger-fill"
            onConfirm={() => access.endMeeting()}
          />
        </aside>
      )}
    </>
  );
}
