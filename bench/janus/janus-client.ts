// The side-by-side benchmark's page for Janus: a minimal client of Janus's plain-HTTP API (no janus.js), run in
// headless Chromium with `page.evaluate(installJanusClient)`. It creates a session, long-polls its events and
// attaches janus.plugin.videoroom handles: `publish` sends the fake camera (1280x720, 30 fps) as rid simulcast in
// the three layers the Tertulia web app sends (1280, 640 and 320 wide; 1.2, 0.5 and 0.15 Mbit/s caps) with the
// microphone; `subscribe` receives chosen feeds on one connection, asking for `substream` 2 (the 1280 layer).
// ICE is not trickled: each side's description carries its candidates (loopback only). `window.__janus.pcs` holds
// every peer connection, for the statistics (page-stats.ts). The page draws what the Tertulia app draws in the same
// scenario (`tiles`: each remote video, and the publisher's own camera, at the app's tile sizes), so that both
// servers' browsers composite the same pixels and load the shared machine alike.
//
// Everything lives inside the one function, which Playwright serializes into the page.

export interface JanusPageApi {
  publish(room: number, display: string): Promise<number>;
  subscribe(room: number, feeds: number[], substream: number): Promise<void>;
  pcs: RTCPeerConnection[];
}

/** CSS px of a drawn video. */
export interface TileSize {
  width: number;
  height: number;
}

/** What a page draws: every remote video at `remote`, its own camera (when it publishes) at `self`. */
export interface JanusTiles {
  remote: TileSize;
  self: TileSize;
}

export function installJanusClient(tiles: JanusTiles): void {
  const api = `${location.origin}/janus`;
  const pcs: RTCPeerConnection[] = [];
  const unclaimed = new Map<string, any>();
  const waiting = new Map<string, (e: any) => void>();
  let sessionId = 0;
  let txCount = 0;

  const post = async (url: string, body: Record<string, unknown>): Promise<{ tx: string; reply: any }> => {
    const tx = `t${++txCount}`;
    const r = await fetch(url, { method: 'POST', body: JSON.stringify({ ...body, transaction: tx }) });
    const reply = await r.json();
    if (reply.janus === 'error') throw new Error(`janus: ${JSON.stringify(reply.error)}`);
    return { tx, reply };
  };
  const deliver = (e: any) => {
    if (e?.janus !== 'event' || typeof e.transaction !== 'string') return;
    const w = waiting.get(e.transaction);
    if (w) {
      waiting.delete(e.transaction);
      w(e);
    } else unclaimed.set(e.transaction, e);
  };
  const poll = async () => {
    while (sessionId) {
      try {
        const r = await fetch(`${api}/${sessionId}?maxev=10&rid=${Date.now()}`);
        const evs = await r.json();
        for (const e of Array.isArray(evs) ? evs : [evs]) deliver(e);
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const eventOf = (tx: string, timeoutMs = 20_000): Promise<any> => {
    const e = unclaimed.get(tx);
    if (e) {
      unclaimed.delete(tx);
      return Promise.resolve(e);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (waiting.delete(tx), reject(new Error(`janus: no event for ${tx}`))), timeoutMs);
      waiting.set(tx, (ev) => (clearTimeout(timer), resolve(ev)));
    });
  };
  const session = async () => {
    if (!sessionId) {
      sessionId = (await post(api, { janus: 'create' })).reply.data.id;
      void poll();
    }
    return sessionId;
  };
  const attach = async () => (await post(`${api}/${await session()}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).reply.data.id as number;
  /** A videoroom request; its result is the plugin's event (with the jsep, if any). */
  const message = async (handle: number, body: Record<string, unknown>, jsep?: RTCSessionDescriptionInit) => {
    const { tx, reply } = await post(`${api}/${sessionId}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) });
    const e = reply.janus === 'ack' ? await eventOf(tx) : reply;
    const data = e.plugindata?.data;
    if (data?.error) throw new Error(`videoroom ${String(body.request)}: ${data.error_code} ${data.error}`);
    return e;
  };
  const gathered = (pc: RTCPeerConnection) =>
    new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, 5000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') (clearTimeout(timer), resolve());
      });
    });
  const connected = (pc: RTCPeerConnection) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') (clearTimeout(timer), resolve());
        else if (pc.connectionState === 'failed') (clearTimeout(timer), reject(new Error('janus: connection failed')));
      };
      const timer = setTimeout(() => reject(new Error(`janus: not connected in 30 s (${pc.connectionState})`)), 30_000);
      pc.addEventListener('connectionstatechange', check);
      check();
    });
  document.body.style.cssText = 'margin: 0; display: flex; flex-wrap: wrap; gap: 8px; background: #111';
  const show = (stream: MediaStream, size: TileSize) => {
    const v = document.createElement('video');
    Object.assign(v, { autoplay: true, muted: true, playsInline: true, srcObject: stream });
    v.style.cssText = `width: ${size.width}px; height: ${size.height}px; object-fit: cover`;
    document.body.append(v);
  };
  // each remote microphone plays, as in the Tertulia app: Chrome then decodes it and syncs its video to it (lip
  // sync holds the video as long as the audio's jitter buffer), so the receivers' delays compare like for like
  const play = (stream: MediaStream) => {
    const a = document.createElement('audio');
    Object.assign(a, { autoplay: true, srcObject: stream });
    document.body.append(a);
  };

  // Janus 1.1.2 takes the first rid of the offer as its highest substream (janus.js offers h, m, l); Chrome is
  // given the layers lowest first, as the Tertulia app gives them (its caps apply per layer in that order): the
  // offer Janus reads lists them highest first.
  const highestRidFirst = (sdp: string) => {
    const rids = sdp.match(/^a=rid:[^\r\n]*\r\n/gm) ?? [];
    if (rids.length < 2) return sdp;
    let i = 0;
    const reversed = [...rids].reverse();
    return sdp
      .replace(/^a=rid:[^\r\n]*\r\n/gm, () => reversed[i++])
      .replace(/^a=simulcast:send ([^\r\n]*)/m, (_, list: string) => `a=simulcast:send ${list.split(';').reverse().join(';')}`);
  };

  const janus: JanusPageApi = {
    pcs,
    async publish(room, display) {
      const handle = await attach();
      const joined = await message(handle, { request: 'join', ptype: 'publisher', room, display });
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
      });
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      pcs.push(pc);
      show(new MediaStream(stream.getVideoTracks()), tiles.self);
      pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
      pc.addTransceiver(stream.getVideoTracks()[0], {
        direction: 'sendonly',
        streams: [stream],
        sendEncodings: [
          { rid: 'l', maxBitrate: 150_000, scaleResolutionDownBy: 4 },
          { rid: 'm', maxBitrate: 500_000, scaleResolutionDownBy: 2 },
          { rid: 'h', maxBitrate: 1_200_000 },
        ],
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const answered = await message(handle, { request: 'publish', audio: true, video: true }, { type: 'offer', sdp: highestRidFirst(pc.localDescription!.sdp) });
      await pc.setRemoteDescription(answered.jsep);
      await connected(pc);
      return joined.plugindata.data.id as number;
    },
    async subscribe(room, feeds, substream) {
      const handle = await attach();
      const body = { request: 'join', ptype: 'subscriber', room, streams: feeds.map((feed) => ({ feed, substream })) };
      // a feed is listed once Janus has its media up, a moment after the publisher's side connects (428 before)
      let offered;
      for (let attempt = 1; ; attempt++) {
        try {
          offered = await message(handle, body);
          break;
        } catch (e) {
          if (attempt >= 20 || !/ 428 /.test(String(e))) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      pcs.push(pc);
      pc.ontrack = (e) => {
        if (e.track.kind === 'video') show(new MediaStream([e.track]), tiles.remote);
        else play(new MediaStream([e.track]));
      };
      await pc.setRemoteDescription(offered.jsep);
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      await message(handle, { request: 'start', room }, { type: 'answer', sdp: pc.localDescription!.sdp });
    },
  };
  (window as any).__janus = janus;
}
