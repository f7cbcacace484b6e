// The microphone's level (0..1) for the settings meter: a WebAudio AnalyserNode on the live track.
import { useEffect, useState } from 'react';

export function useMicLevel(track: MediaStreamTrack | null): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track || track.readyState === 'ended') {
      setLevel(0);
      return;
    }
    let ctx: AudioContext;
    try {
      ctx = new AudioContext();
    } catch {
      return;
    }
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    // the window read every 100 ms spans nearly all of those 100 ms (4096 samples: 85 ms at 48 kHz), so a short
    // sound between two reads still moves the meter (a 512-sample window saw 11 ms in 100 and could miss a
    // periodic click, such as a fake device's beep, every time)
    analyser.fftSize = 4096;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    void ctx.resume().catch(() => {});
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      const rms = Math.sqrt(sum / samples.length);
      // about -60 dBFS .. 0 dBFS onto 0..1
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      setLevel(Math.max(0, Math.min(1, (db + 60) / 60)));
    }, 100);
    return () => {
      clearInterval(timer);
      source.disconnect();
      void ctx.close().catch(() => {});
    };
  }, [track]);
  return level;
}
