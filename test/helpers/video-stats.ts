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
 * The picture the meeting's peer connection on `page` decodes now from `name`'s camera (the receiver's track,
 * played in a small <video> of its own and drawn on a canvas), or null while there is no such track or no frame
 * yet. Two calls a moment apart tell a moving picture from a frozen one (`pictureChanged`).
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
    const probes: Map<string, HTMLVideoElement> = (w.__pictureProbes ??= new Map());
    let v = probes.get(track.id);
    if (!v) {
      v = document.createElement('video');
      v.muted = true;
      v.style.cssText = 'position:fixed;left:0;top:0;width:64px;height:36px;opacity:0.01;pointer-events:none';
      v.srcObject = new MediaStream([track]);
      document.body.appendChild(v);
      probes.set(track.id, v);
      await v.play().catch(() => {});
    }
    if (v.videoWidth === 0 || v.readyState < 2) return null;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 18;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0, 32, 18);
    const rgba = g.getImageData(0, 0, 32, 18).data;
    const thumbnail: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) thumbnail.push(Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!));
    return { width: v.videoWidth, height: v.videoHeight, luma: thumbnail.reduce((a, b) => a + b, 0) / thumbnail.length, thumbnail };
  }, name);
}

/** True when the two pictures differ (the video moved on between them). */
export function pictureChanged(a: Picture, b: Picture): boolean {
  return a.thumbnail.some((v, i) => v !== b.thumbnail[i]);
}
