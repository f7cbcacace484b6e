// Media sinks: a <video> for a stream or a local track, and a hidden <audio> per remote participant.
import { useCallback, useEffect, useMemo, useRef, type RefCallback, type RefObject } from 'react';

/** Plays `stream` in the media element while it is mounted and the stream is the same. */
function usePlayStream(ref: RefObject<HTMLMediaElement | null>, stream: MediaStream): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = stream;
    el.play().catch(() => {});
    return () => {
      el.srcObject = null;
    };
  }, [ref, stream]);
}

export function VideoView({
  stream,
  mirrored,
  label,
  contain,
  elementRef,
}: {
  stream: MediaStream;
  mirrored?: boolean;
  label?: string;
  contain?: boolean;
  /** Also gets the video element (e.g. to follow its size); may return a cleanup function. */
  elementRef?: RefCallback<HTMLVideoElement>;
}) {
  const ref = useRef<HTMLVideoElement | null>(null);
  const setRef = useCallback(
    (el: HTMLVideoElement | null) => {
      ref.current = el;
      const cleanup = elementRef?.(el);
      return () => {
        if (typeof cleanup === 'function') cleanup();
        ref.current = null;
      };
    },
    [elementRef],
  );
  usePlayStream(ref, stream);
  return (
    <video
      ref={setRef}
      className={`video${mirrored ? ' mirrored' : ''}${contain ? ' contain' : ''}`}
      autoPlay
      playsInline
      muted
      aria-label={label}
      aria-hidden={label ? undefined : true}
    />
  );
}

/** A stream for one local track, stable while the track is the same. */
export function useTrackStream(track: MediaStreamTrack | null): MediaStream | null {
  return useMemo(() => (track ? new MediaStream([track]) : null), [track]);
}

export function RemoteAudio({ stream, sinkId }: { stream: MediaStream; sinkId?: string }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current as (HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }) | null;
    if (!el?.setSinkId || sinkId === undefined) return;
    el.setSinkId(sinkId).catch(() => {}); // a speaker that went away: the default one keeps playing
  }, [sinkId]);
  usePlayStream(ref, stream);
  return <audio ref={ref} autoPlay />;
}
