// A synthetic participant of a whole server (signal, focus, bridge), the way a browser joins: the WebSocket
// (join, offer, answer, leave), then the media of a bench Participant (real ICE, DTLS, SRTP; Opus and VP8 rid
// simulcast) with the bridge that focus's offer names. Every later offer (someone joined or left) is answered
// with the same credentials, as a browser does. For the soak (bench/soak/) and the idle-resources test.
// Media goes to `host` (the server's address as this client reaches it) at the offer's UDP port, whatever
// addresses the offer's candidates list, or to `mediaTarget`.
import https from 'node:https';
import sdpTransform from 'sdp-transform';
import { WebSocket } from 'ws';
import type { BenchMedia } from './media.ts';
import { AUDIO_FRAME_MS } from './media.ts';
import { DelayHistogram } from './delay-histogram.ts';
import { browserAnswer } from './sdp-answer.ts';
import { PARTICIPANT_ICE_PWD, Participant, createClientCertificate, measureWindow, type ClientCertificate } from './participant.ts';

/** Every packet counts (the bench's measurement window is for benchmarks; here a client only says what it got). */
measureWindow.startUs = 0;
measureWindow.lengthUs = 0xffffffff;

/** A server that answers no ping for this long is taken for gone (its heartbeat drops a silent client after 8 s). */
const SILENT_SERVER_MS = 12_000;

export interface MeetingClientOptions {
  /** The server's address as this client reaches it (WebSocket and media). */
  host: string;
  httpsPort: number;
  room: string;
  name: string;
  /** Distinct per client of one process: picks its SSRCs. */
  index: number;
  media: BenchMedia;
  /** Address the media socket binds (default 127.0.0.1; 0.0.0.0 in another network namespace). */
  localAddress?: string;
  /** Video frames per second (0: audio only); the clips are made for 30. */
  videoFps?: number;
  /** Where media goes instead of host and the offer's port (a relay in between). */
  mediaTarget?: { address: string; port: number };
  /** Sends audio (and video unless videoFps is 0); false: a listener, muted (default true). */
  sendMedia?: boolean;
  /** Where the one-way delays of what it receives go (shared by several clients; default its own). */
  delays?: DelayHistogram;
}

/** The answer a browser gives to focus's offer: audio and camera (rid simulcast) sent, remote sources received. */
export function meetingAnswer(offerSdp: string, p: Participant, fingerprint: string): string {
  const id = { ufrag: p.remoteUfrag, pwd: PARTICIPANT_ICE_PWD, fingerprint, sessionId: String(1000 + p.audioSsrc) };
  return browserAnswer(offerSdp, id, (mid) => {
    if (mid === '0' && p.publishesAudio) return { ssrcs: [{ id: p.audioSsrc, attribute: 'cname', value: p.endpointId }] };
    if (mid === '1' && p.publishesVideo) {
      const rids = p.layerRids;
      return { rids: rids.map((rid) => ({ id: rid, direction: 'send' })), simulcast: { dir1: 'send', list1: rids.join(';') } };
    }
    return null;
  });
}

export class MeetingClient {
  readonly opts: MeetingClientOptions;
  readonly participant: Participant;
  private ws: WebSocket | null = null;
  private cert: ClientCertificate | null = null;
  private timers: NodeJS.Timeout[] = [];
  private mediaUp: Promise<void> | null = null;
  private liveness: NodeJS.Timeout | undefined;
  private left = false;
  /** The server's id for this participant once joined. */
  selfId = '';
  /** Offers answered (the first, then one per renegotiation). */
  offers = 0;
  /** Resolves when the WebSocket closes (a leave, a server that dropped it, a cut network). */
  readonly closed: Promise<{ code: number; reason: string }>;
  private resolveClosed!: (v: { code: number; reason: string }) => void;
  /** An `error` message or a failure, once one happened. */
  error: string | null = null;

  constructor(opts: MeetingClientOptions) {
    this.opts = opts;
    this.participant = new Participant({
      conferenceId: opts.room,
      endpointId: opts.name,
      index: opts.index,
      publishesAudio: opts.sendMedia !== false,
      publishesVideo: opts.sendMedia !== false && (opts.videoFps ?? 10) > 0,
      media: opts.media,
      delays: opts.delays ?? new DelayHistogram(),
    });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Joins, answers the first offer and brings the media up (ICE, DTLS, SRTP), then sends audio and video. */
  async join(timeoutMs = 30_000): Promise<void> {
    this.cert = await createClientCertificate();
    const { host, httpsPort } = this.opts;
    warmUpMedia(host, httpsPort);
    const ws = new WebSocket(`wss://${host.includes(':') ? `[${host}]` : host}:${httpsPort}/ws`, { rejectUnauthorized: false });
    this.ws = ws;
    ws.on('error', (e) => (this.error ??= e.message));
    // a connection whose server went silent (a cut network) is dropped, as a browser's would be: the server
    // answers pings, and drops us by its own heartbeat well before this
    let lastPong = Date.now();
    ws.on('pong', () => (lastPong = Date.now()));
    this.liveness = setInterval(() => {
      if (Date.now() - lastPong > SILENT_SERVER_MS) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, SILENT_SERVER_MS / 4);
    ws.on('close', (code, reason) => {
      clearInterval(this.liveness);
      this.stopMedia();
      this.resolveClosed({ code, reason: reason.toString() });
    });
    let joined!: () => void;
    let failed!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    ready.catch(() => {}); // awaited below, unless the WebSocket never opened
    const timer = setTimeout(() => failed(new Error(`${this.opts.name}: not in the meeting with media after ${timeoutMs} ms (${this.error ?? 'no error'})`)), timeoutMs);
    void this.closed.then(({ code }) => failed(new Error(`${this.opts.name}: WebSocket closed (${code}) before the media was up`)));
    ws.on('message', (data) => {
      let m: { type?: string; selfId?: string; sdp?: string; version?: number; message?: string; code?: string };
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (m.type === 'joined') this.selfId = m.selfId ?? '';
      else if (m.type === 'error') {
        this.error = `${m.code}: ${m.message}`;
        if (!this.selfId) failed(new Error(`${this.opts.name}: ${this.error}`));
      } else if (m.type === 'offer' && typeof m.sdp === 'string') this.onOffer(m.sdp, m.version ?? 0).then(joined, failed);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    } catch (e) {
      clearTimeout(timer);
      throw e;
    }
    ws.send(JSON.stringify({ type: 'join', room: this.opts.room, displayName: this.opts.name, audioMuted: !this.participant.publishesAudio, videoMuted: !this.participant.publishesVideo }));
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
  }

  private async onOffer(sdp: string, version: number): Promise<void> {
    this.offers++;
    this.ws?.send(JSON.stringify({ type: 'answer', sdp: meetingAnswer(sdp, this.participant, this.cert!.fingerprint), version }));
    if (this.mediaUp === null) {
      const offer = sdpTransform.parse(sdp);
      const m = offer.media[0];
      const ufrag = String(m?.iceUfrag ?? offer.iceUfrag ?? '');
      const pwd = String(m?.icePwd ?? offer.icePwd ?? '');
      const port = (m?.candidates ?? []).find((c) => c.transport.toLowerCase() === 'udp')?.port;
      if (!ufrag || !pwd || port === undefined) throw new Error(`${this.opts.name}: the offer has no ICE credentials or UDP candidate`);
      const target = this.opts.mediaTarget ?? { address: this.opts.host, port };
      this.mediaUp = this.participant
        .connectMedia({ ...target, ufrag, pwd }, this.cert!, this.opts.localAddress ?? '127.0.0.1')
        .then(() => this.startMedia());
    }
    await this.mediaUp;
  }

  private startMedia(): void {
    if (this.left) return;
    this.timers.push(setInterval(() => this.participant.sendTransportFeedback(), 100));
    if (!this.participant.publishesAudio) return;
    const audio = this.opts.media.audio;
    let a = 0;
    this.timers.push(
      setInterval(() => {
        try {
          this.participant.sendAudioFrame(audio[a++ % audio.length]!);
        } catch {
          // a socket closed under us (leaving): nothing to send
        }
      }, AUDIO_FRAME_MS),
    );
    const fps = this.opts.videoFps ?? 10;
    if (this.participant.publishesVideo) {
      this.timers.push(
        setInterval(() => {
          try {
            this.participant.sendVideoFrame();
          } catch {
            // as above
          }
        }, 1000 / fps),
      );
    }
  }

  private stopMedia(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** RTP packets received so far (every remote participant's audio and video). */
  get received(): number {
    return this.participant.rx.rtp;
  }

  /** Says goodbye (`leave`), closes the WebSocket and the media; `abrupt`: no goodbye, the socket is just dropped. */
  async leave(abrupt = false): Promise<void> {
    this.left = true;
    this.stopMedia();
    const ws = this.ws;
    if (ws !== null && ws.readyState === WebSocket.OPEN) {
      if (abrupt) ws.terminate();
      else {
        ws.send(JSON.stringify({ type: 'leave' }));
        ws.close();
      }
    } else ws?.terminate();
    this.participant.close();
    if (ws !== null) await Promise.race([this.closed, new Promise((r) => setTimeout(r, 5000))]);
  }
}

/**
 * As the web app's room page does (src/web/media/warm-up.ts): tells the server someone is about to join, so a bridge
 * whose media workers start on demand starts them while the socket connects. Fire and forget (signal passes on at
 * most one a second, however many clients ask).
 */
function warmUpMedia(host: string, port: number): void {
  const req = https.request({ host, port, path: '/media/warm-up', method: 'POST', rejectUnauthorized: false, timeout: 10_000 }, (res) => res.resume());
  req.on('error', () => {});
  req.on('timeout', () => req.destroy());
  req.end();
}
