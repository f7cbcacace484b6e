// The meeting: a grid of tiles, hidden audio sinks for the remote participants, and the toolbar.
import { useState, useSyncExternalStore } from 'react';
import { useStrings, type Strings } from '../i18n.ts';
import type { Conference } from '../media/conference.ts';
import { Tile } from '../components/Tile.tsx';
import { Toolbar } from '../components/Toolbar.tsx';
import { RemoteAudio, useTrackStream } from '../components/MediaViews.tsx';
import { LinkIcon } from '../components/Icons.tsx';
import { gridShape, tileGridColumn } from '../layout.ts';

function errorText(t: Strings, e: { code: string; message: string }): string {
  return e.code === 'room-full' ? t.errorRoomFull : `${t.errorGeneric}: ${e.message}`;
}

export function MeetingPage({ conference }: { conference: Conference }) {
  const t = useStrings();
  const state = useSyncExternalStore(conference.subscribe, conference.getSnapshot);
  const local = useSyncExternalStore(conference.local.subscribe, conference.local.getSnapshot);
  const selfVideo = useTrackStream(local.videoMuted ? null : local.camTrack);
  const count = state.participants.length + 1;
  const { cols, rows } = gridShape(count);

  return (
    <div className="meeting-page">
      <header className="meeting-header">
        <h1 className="room-title small">{conference.room}</h1>
        {state.status === 'joined' && (
          <span className="status-pill">
            {t.participants}: {count}
          </span>
        )}
        {state.status === 'connecting' && (
          <span className="status-pill" role="status">
            {t.connecting}
          </span>
        )}
      </header>
      {state.error && (
        <div className="error-banner" role="alert">
          <span>{errorText(t, state.error)}</span>
          <button type="button" className="link-button" onClick={() => conference.dismissError()}>
            {t.dismiss}
          </button>
        </div>
      )}
      <main className="grid" style={{ gridTemplateColumns: `repeat(${cols * 2}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))` }}>
        <Tile
          displayName={conference.displayName}
          isSelf
          video={selfVideo}
          audioMuted={local.audioMuted}
          gridColumn={tileGridColumn(0, count, cols)}
        />
        {state.participants.map((p, i) => {
          const media = state.media.get(p.id);
          return (
            <Tile
              key={p.id}
              displayName={p.displayName}
              video={p.videoMuted ? null : (media?.video ?? null)}
              audioMuted={p.audioMuted}
              gridColumn={tileGridColumn(i + 1, count, cols)}
            />
          );
        })}
      </main>
      {state.status === 'joined' && state.participants.length === 0 && <AloneCard />}
      <div className="audio-sinks" hidden>
        {state.participants.map((p) => {
          const audio = state.media.get(p.id)?.audio;
          return audio ? <RemoteAudio key={p.id} stream={audio} /> : null;
        })}
      </div>
      <Toolbar
        audioMuted={local.audioMuted}
        videoMuted={local.videoMuted}
        cameraBusy={local.cameraStarting}
        onToggleAudio={() => void conference.setAudioMuted(!local.audioMuted)}
        onToggleVideo={() => void conference.setVideoMuted(!local.videoMuted)}
        onLeave={() => conference.leave()}
      />
    </div>
  );
}

function AloneCard() {
  const t = useStrings();
  const [copied, setCopied] = useState(false);
  const copy = () => {
    const url = window.location.origin + window.location.pathname;
    navigator.clipboard?.writeText(url).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <aside className="alone-card" aria-labelledby="alone-title">
      <h2 id="alone-title">{t.aloneTitle}</h2>
      <p>{t.aloneHint}</p>
      <button type="button" className="secondary" onClick={copy}>
        <LinkIcon />
        <span>{copied ? t.linkCopied : t.copyLink}</span>
      </button>
    </aside>
  );
}
