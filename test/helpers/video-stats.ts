// Video statistics from a participant's page (getStats of the meeting's peer connection): the sender's
// simulcast layers and what each remote video arrives as.
import type { Page } from 'playwright-core';

export interface OutboundLayer {
  width: number;
  bytes: number;
}

/** The sender's simulcast layers by rid: frame width and bytes sent. */
export async function outboundLayers(page: Page): Promise<Record<string, OutboundLayer>> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const out: Record<string, { width: number; bytes: number }> = {};
    if (!pc) return out;
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) out[s.rid] = { width: s.frameWidth ?? 0, bytes: s.bytesSent ?? 0 };
    });
    return out;
  });
}

export interface InboundVideo {
  /** Display name of the participant it comes from. */
  from: string;
  width: number;
  framesDecoded: number;
  freezeCount: number;
  packetsLost: number;
}

/** Every remote camera/screen that decoded frames, with its current frame width and freeze count. */
export async function inboundVideo(page: Page): Promise<InboundVideo[]> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const out: { from: string; width: number; framesDecoded: number; freezeCount: number; packetsLost: number }[] = [];
    if (!t?.pc) return out;
    const byMid = new Map<string, string>();
    for (const s of t.sources ?? []) byMid.set(String(s.mid), s.participantId);
    const names = new Map<string, string>();
    for (const p of t.participants ?? []) names.set(p.id, p.displayName);
    (await (t.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video' || !(s.framesDecoded > 0)) return;
      const id = byMid.get(String(s.mid)) ?? '';
      out.push({
        from: names.get(id) ?? id,
        width: s.frameWidth ?? 0,
        framesDecoded: s.framesDecoded,
        freezeCount: s.freezeCount ?? 0,
        packetsLost: s.packetsLost ?? 0,
      });
    });
    return out;
  });
}

/** The one remote video from `name` (throws when there is none or several). */
export async function videoFrom(page: Page, name: string): Promise<InboundVideo | undefined> {
  const all = (await inboundVideo(page)).filter((v) => v.from === name);
  if (all.length > 1) throw new Error(`${all.length} videos from ${name}`);
  return all[0];
}

/** A picture of a remote video: its size, mean brightness (0-255) and a 32x18 grey thumbnail. */
export interface Picture {
  width: number;
  height: number;
  luma: number;
  thumbnail: number[];
}

/**
 * The latest frame the meeting's peer connection on `page` decoded from `name`'s camera, read straight from the
 * receiver's track (a MediaStreamTrackProcessor, no <video> element or page layout in between) and scaled to
 * 32x18; null while there is no such track or no frame within a second. Two calls a moment apart tell a moving
 * picture from a frozen one (`pictureChanged`).
 */
export async function receivedPicture(page: Page, name: string): Promise<Picture | null> {
  return await page.evaluate(async (who) => {
    const w = window as any;
    const t = w.__tertulia;
    const pc: RTCPeerConnection | undefined = t?.pc;
    if (!pc) return null;
    const id = (t.participants ?? []).find((p: any) => p.displayName === who)?.id;
    const mids = new Set((t.sources ?? []).filter((s: any) => s.participantId === id && s.kind === 'video').map((s: any) => String(s.mid)));
    const track = pc.getTransceivers().find((x) => x.mid !== null && mids.has(x.mid) && x.receiver.track.kind === 'video')?.receiver.track;
    if (!track || track.readyState !== 'live') return null;
    // one reader per track, kept: it holds the newest frame only
    const readers: Map<string, ReadableStreamDefaultReader<any>> = (w.__pictureReaders ??= new Map());
    let reader = readers.get(track.id);
    if (!reader) {
      reader = new w.MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable.getReader() as ReadableStreamDefaultReader<any>;
      readers.set(track.id, reader);
    }
    // a read that timed out earlier is still the one to wait for (a second read would queue behind it)
    const pending: Map<string, Promise<any>> = (w.__pictureReads ??= new Map());
    const read = pending.get(track.id) ?? reader.read();
    pending.set(track.id, read);
    const next = await Promise.race([read, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    if (next === null) return null;
    pending.delete(track.id);
    if (next.done) return null;
    const frame = next.value;
    try {
      const canvas = new OffscreenCanvas(32, 18);
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      g.drawImage(frame, 0, 0, 32, 18);
      const rgba = g.getImageData(0, 0, 32, 18).data;
      const thumbnail: number[] = [];
      for (let i = 0; i < rgba.length; i += 4) thumbnail.push(Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!));
      return { width: frame.displayWidth, height: frame.displayHeight, luma: thumbnail.reduce((a, b) => a + b, 0) / thumbnail.length, thumbnail };
    } finally {
      frame.close();
    }
  }, name);
}

/** True when the two pictures differ (the video moved on between them). */
export function pictureChanged(a: Picture, b: Picture): boolean {
  return a.thumbnail.some((v, i) => v !== b.thumbnail[i]);
}
