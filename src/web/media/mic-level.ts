// The microphone's level: a WebAudio AnalyserNode on the live track, read every few tens of ms. The settings
// meter shows it (useMicLevel); the microphone watches (mic-watch.ts: talking while muted, a silent microphone)
// listen with it.
import { useEffect, useState } from 'react';

/** dBFS of silence as read (the floor of the RMS). */
export const SILENCE_DB = -120;

/**
 * Calls `onLevel` with the track's RMS level in dBFS every `everyMs`; returns the function that stops it. A
 * browser without WebAudio gets nothing (and a no-op stop).
 */
export function readMicLevels(track: MediaStreamTrack, everyMs: number, onLevel: (db: number) => void): () => void {
  let ctx: AudioContext;
  try {
    ctx = new AudioContext();
  } catch {
    return () => {};
  }
  let source: MediaStreamAudioSourceNode;
  const analyser = ctx.createAnalyser();
  // the window read every 100 ms spans nearly all of those 100 ms (4096 samples: 85 ms at 48 kHz), so a short
  // sound between two reads still moves the meter (a 512-sample window saw 11 ms in 100 and could miss a
  // periodic click, such as a fake device's beep, every time)
  analyser.fftSize = 4096;
  try {
    // a track the browser cannot read from (ended meanwhile) throws here: no levels, nothing left open
    source = ctx.createMediaStreamSource(new MediaStream([track]));
    source.connect(analyser);
  } catch {
    void ctx.close().catch(() => {});
    return () => {};
  }
  const samples = new Float32Array(analyser.fftSize);
  void ctx.resume().catch(() => {});
  const timer = setInterval(() => {
    // a context the browser keeps suspended (no gesture on this page yet) reads zeros that are not the microphone's
    if (ctx.state !== 'running') return;
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    const rms = Math.sqrt(sum / samples.length);
    onLevel(Math.max(SILENCE_DB, 20 * Math.log10(Math.max(rms, 1e-6))));
  }, everyMs);
  return () => {
    clearInterval(timer);
    source.disconnect();
    void ctx.close().catch(() => {});
  };
}

/** The level (0..1) for the settings meter: about -60 dBFS .. 0 dBFS, every 100 ms. */
export function useMicLevel(track: MediaStreamTrack | null): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track || track.readyState === 'ended') {
      setLevel(0);
      return;
    }
    return readMicLevels(track, 100, (db) => setLevel(Math.max(0, Math.min(1, (db + 60) / 60))));
  }, [track]);
  return level;
}
