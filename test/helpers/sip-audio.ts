// Audio checks of the SIP gateway's tests: tones as 20 ms frames, how strong a frequency is in what was
// heard (Goertzel), and how much audio a browser received from each remote participant (getStats).
import { remoteStats } from './browser.ts';
import type { Page } from 'playwright-core';

/** Frame number `index` (960 samples, 48 kHz) of a continuous sine at `hz`, amplitude `amp`. */
export function toneFrame(hz: number, index: number, amp = 8000, rate = 48_000): Int16Array {
  const n = rate / 50;
  const f = new Int16Array(n);
  for (let i = 0; i < n; i++) f[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * (index * n + i)) / rate));
  return f;
}

/** The power of `hz` in `samples` (48 kHz), normalised by length: a pure full-scale tone gives about 0.25. */
export function tonePower(samples: Int16Array, hz: number, rate = 48_000): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = Math.max(1, samples.length);
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n);
}

/** Joins frames into one buffer. */
export function concatFrames(frames: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Per remote participant display name: audio packets received and the audio energy played out (getStats). */
export async function remoteAudio(page: Page): Promise<Record<string, { packets: number; energy: number }>> {
  const stats = await remoteStats(page);
  return Object.fromEntries(Object.entries(stats).map(([name, s]) => [name, { packets: s.audioPackets, energy: s.audioEnergy }]));
}

/** The roster as the web app has it: display name and the phone flag of each remote participant. */
export async function rosterOf(page: Page): Promise<{ displayName: string; phone?: boolean }[]> {
  return await page.evaluate(() => ((window as any).__tertulia?.participants ?? []).map((p: any) => ({ displayName: p.displayName, phone: p.phone })));
}
