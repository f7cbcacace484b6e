// Video statistics from a participant's page (getStats of the meeting's peer connection): the sender's
// simulcast layers and what each remote video arrives as.
import type { Page } from 'playwright-core';
import type { Participant } from './browser.ts';

export interface OutboundLayer {
  width: number;
  bytes: number;
  /** Whether the encoding is on (Chrome's `active`; undefined where the browser does not say). */
  active?: boolean;
}

/** The sender's simulcast layers by rid: frame width, bytes sent, and whether it is on. */
export async function outboundLayers(page: Page): Promise<Record<string, OutboundLayer>> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const out: Record<string, { width: number; bytes: number; active?: boolean }> = {};
    if (!pc) return out;
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) out[s.rid] = { width: s.frameWidth ?? 0, bytes: s.bytesSent ?? 0, active: s.active };
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
  packetsReceived: number;
  /** Decoded frames per second over the last second (Chrome's framesPerSecond; 0 when not reported). */
  framesPerSecond: number;
}

/** Every remote camera/screen that decoded frames, with its current frame width and freeze count. */
export async function inboundVideo(page: Page): Promise<InboundVideo[]> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const out: { from: string; width: number; framesDecoded: number; freezeCount: number; packetsLost: number; packetsReceived: number; framesPerSecond: number }[] = [];
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
        packetsReceived: s.packetsReceived ?? 0,
        framesPerSecond: s.framesPerSecond ?? 0,
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
  return await pictureOf(page, name, 'receiver');
}

/**
 * What `name`'s tile on `page` shows: its <video> drawn onto a 32x18 canvas, as a person would see it; null while
 * the tile has no video, the video has no frame yet, or its track is not a live receiver track of the meeting's
 * current peer connection (a tile left on a replaced connection's ended track shows a frozen or black picture).
 */
export async function tilePicture(page: Page, name: string): Promise<Picture | null> {
  return await pictureOf(page, name, 'tile');
}

async function pictureOf(page: Page, name: string, from: 'receiver' | 'tile'): Promise<Picture | null> {
  return await page.evaluate(
    async ({ who, from }) => {
      const w = window as any;
      const t = w.__tertulia;
      const pc: RTCPeerConnection | undefined = t?.pc;
      if (!pc) return null;
      /** The picture to draw and its size, and what to do once drawn. */
      let source: { image: CanvasImageSource; width: number; height: number; done: () => void } | null = null;
      if (from === 'tile') {
        const tile = [...document.querySelectorAll('[role="group"]')].find((g) => g.getAttribute('aria-label') === who);
        const video = tile?.querySelector('video');
        const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
        if (!video || !track || track.readyState !== 'live' || video.videoWidth === 0) return null;
        if (!pc.getReceivers().some((r) => r.track === track)) return null;
        source = { image: video, width: video.videoWidth, height: video.videoHeight, done: () => {} };
      } else {
        const id = (t.participants ?? []).find((p: any) => p.displayName === who)?.id;
        const mids = new Set((t.sources ?? []).filter((s: any) => s.participantId === id && s.kind === 'video').map((s: any) => String(s.mid)));
        const track = pc.getTransceivers().find((x) => x.mid !== null && mids.has(x.mid) && x.receiver.track.kind === 'video')?.receiver.track;
        if (!track || track.readyState !== 'live') return null;
        // one reader per track object, kept: it holds the newest frame only. Keyed by the object, not its id: a new
        // peer connection's receiver track has the id of the old connection's (the offer's msid), which ended
        const readers: WeakMap<MediaStreamTrack, ReadableStreamDefaultReader<any>> = (w.__pictureReaders ??= new WeakMap());
        let reader = readers.get(track);
        if (!reader) {
          reader = new w.MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable.getReader() as ReadableStreamDefaultReader<any>;
          readers.set(track, reader);
        }
        // a read that timed out earlier is still the one to wait for (a second read would queue behind it)
        const pending: WeakMap<MediaStreamTrack, Promise<any>> = (w.__pictureReads ??= new WeakMap());
        const read = pending.get(track) ?? reader.read();
        pending.set(track, read);
        const next = await Promise.race([read, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
        if (next === null) return null;
        pending.delete(track);
        if (next.done) return null;
        const frame = next.value;
        source = { image: frame, width: frame.displayWidth, height: frame.displayHeight, done: () => frame.close() };
      }
      try {
        const canvas = new OffscreenCanvas(32, 18);
        const g = canvas.getContext('2d', { willReadFrequently: true })!;
        g.drawImage(source.image, 0, 0, 32, 18);
        const rgba = g.getImageData(0, 0, 32, 18).data;
        const thumbnail: number[] = [];
        for (let i = 0; i < rgba.length; i += 4) thumbnail.push(Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!));
        return { width: source.width, height: source.height, luma: thumbnail.reduce((a, b) => a + b, 0) / thumbnail.length, thumbnail };
      } finally {
        source.done();
      }
    },
    { who: name, from },
  );
}

/**
 * The page's remote <audio> elements that do not play a live receiver track of the meeting's current peer
 * connection (each as its track's id and state): empty when every one plays what the connection receives now.
 */
export async function staleAudioSinks(page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const live = new Set(pc?.getReceivers().map((r) => r.track) ?? []);
    const out: string[] = [];
    for (const el of document.querySelectorAll('audio')) {
      for (const track of (el.srcObject as MediaStream | null)?.getAudioTracks() ?? []) {
        if (track.readyState !== 'live' || !live.has(track)) out.push(`${track.id} (${track.readyState}${live.has(track) ? '' : ', not on the current connection'})`);
      }
    }
    return out;
  });
}

/** True when the two pictures differ (the video moved on between them). */
export function pictureChanged(a: Picture, b: Picture): boolean {
  return a.thumbnail.some((v, i) => v !== b.thumbnail[i]);
}

/** A picture worth calling one: not black (mean brightness above 20 of 255; the fake camera's is about 100). */
export function notBlack(p: Picture | null): p is Picture {
  return p !== null && p.luma > 20;
}

/** One look at what a participant shows of another: the receiver track's latest frame and the tile's picture. */
interface Look {
  track: Picture | null;
  tile: Picture | null;
}

function describeLook(l: Look | undefined): string {
  const one = (p: Picture | null | undefined) => (p ? `luma ${p.luma.toFixed(0)}` : 'none');
  return `receiver track ${one(l?.track)}, tile ${one(l?.tile)}`;
}

/**
 * Waits until every one of `people` sees every other one's camera as a picture that is not black and moves (two
 * looks a moment apart differ), both read from the current peer connection's receiver track and drawn from the
 * tile's <video>, and every remote <audio> element plays a live track of the current connection. Throws naming
 * the pairs that did not, with what they showed last.
 */
export async function everyoneSeesEveryone(people: Participant[], what: string, timeoutMs = 30_000): Promise<void> {
  const pending = new Set(people.flatMap((p) => people.filter((o) => o !== p).map((o) => `${p.name}<-${o.name}`)));
  const staleAudio = new Map<string, string[]>();
  const last = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  const look = async (p: Participant, o: Participant): Promise<Look> => ({ track: await receivedPicture(p.page, o.name), tile: await tilePicture(p.page, o.name) });
  while (pending.size > 0 || staleAudio.size > 0) {
    if (Date.now() > deadline) {
      const pairs = [...pending].map((k) => `${k} (${last.get(k)})`);
      const audio = [...staleAudio].map(([n, a]) => `${n}'s audio elements play ${a.join(', ')}`);
      throw new Error(`${what}: not seeing everyone: ${[...pairs, ...audio].join('; ')}`);
    }
    for (const p of people) {
      const stale = await staleAudioSinks(p.page);
      if (stale.length > 0) staleAudio.set(p.name, stale);
      else staleAudio.delete(p.name);
      const others = people.filter((o) => pending.has(`${p.name}<-${o.name}`));
      const first = new Map<string, Look>();
      for (const o of others) first.set(o.name, await look(p, o));
      await new Promise((r) => setTimeout(r, 600));
      for (const o of others) {
        const key = `${p.name}<-${o.name}`;
        const [a, b] = [first.get(o.name)!, await look(p, o)];
        last.set(key, describeLook(b));
        const moves = (x: Picture | null, y: Picture | null) => x !== null && notBlack(y) && pictureChanged(x, y);
        if (moves(a.track, b.track) && moves(a.tile, b.tile)) pending.delete(key);
      }
    }
  }
}
