// The recording benchmark's participants: plain-RTP senders of a pre-encoded file, so that what they cost is
// small beside what is measured (a browser per participant would eat the machine; `tertulia play` encodes VP8
// per sender). The file (testsrc2's moving picture and a tone; VP8 with a keyframe every second, since the
// bridge cannot ask a copying sender for one, and Opus) is made once with ffmpeg and cached under bench/.cache/.
// Each room's participants are attached at focus as `tertulia play` attaches one (comedia, SDES-keyed SRTP)
// and fed by one ffmpeg process that copies the file to all of them (`-c copy`: no encoding).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Bus } from '../../src/bus/bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { AUDIO_PT, VIDEO_PT } from '../../src/protocol/media-profile.ts';
import { CACHE_DIR } from '../../src/loadtest/media.ts';

export const SENDER_FPS = 30;
/** The cameras the senders can have: what the recorder gets from a browser's top simulcast layer, or its middle one. */
export const CAMERAS = {
  '720p': { width: 1280, height: 720, kbps: 1200 },
  '360p': { width: 640, height: 360, kbps: 500 },
} as const;
export type Camera = keyof typeof CAMERAS;
const CLIP_SECONDS = 20;
const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
const PACKET_SIZE = 1200;

/** The cached clip for this camera, made with ffmpeg the first time. */
export function senderClip(camera: Camera): string {
  const { width, height, kbps } = CAMERAS[camera];
  const file = path.join(CACHE_DIR, `recording-sender-${camera}-${kbps}k.webm`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.tmp.webm`;
  const rate = `${kbps}k`;
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${SENDER_FPS}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_SECONDS), '-map', '0:v', '-map', '1:a',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1',
    '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-g', String(SENDER_FPS), '-keyint_min', String(SENDER_FPS), '-pix_fmt', 'yuv420p',
    '-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-ar', '48000',
    tmp,
  ]);
  renameSync(tmp, file);
  return file;
}

export interface SenderParticipant {
  participantId: string;
  name: string;
}

/** One room's participants, attached at focus, and the ffmpeg process sending the clip as each of them. */
export class RoomSenders {
  readonly conferenceId: string;
  readonly participants: SenderParticipant[];
  private ffmpeg: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  stderr = '';

  private constructor(conferenceId: string, participants: SenderParticipant[]) {
    this.conferenceId = conferenceId;
    this.participants = participants;
  }

  /** Attaches `count` senders to the conference and starts sending. */
  static async start(bus: Bus, conferenceId: string, count: number, clip: string): Promise<RoomSenders> {
    const participants: SenderParticipant[] = [];
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip];
    for (let k = 0; k < count; k++) {
      const participantId = `p${k}`;
      // ffmpeg's RTP muxer takes its SSRC as a signed 32-bit number
      const ssrcs = { audio: 100_000 * (k + 1) + 1, video: 100_000 * (k + 1) + 2 };
      const reply = await callBus(bus, busCalls.focusAttachPlain, '', {
        conferenceId,
        endpointId: participantId,
        legs: [{ kind: 'audio' }, { kind: 'video' }],
        rtcpMux: true,
        comedia: true,
        srtp: true,
        sources: [
          { kind: 'audio', ssrc: ssrcs.audio },
          { kind: 'video', ssrc: ssrcs.video },
        ],
      });
      if (!reply.srtp) throw new Error('focus gave the sender no SRTP key');
      const srtp = ['-srtp_out_suite', SRTP_SUITE, '-srtp_out_params', reply.srtp.remoteKey];
      for (const leg of reply.legs) {
        if (leg.kind === 'all') continue;
        const url = `srtp://${reply.address}:${leg.port}?rtcpport=${leg.port}&pkt_size=${PACKET_SIZE}`;
        const pt = leg.kind === 'video' ? VIDEO_PT : AUDIO_PT;
        args.push('-map', leg.kind === 'video' ? '0:v:0' : '0:a:0', '-c', 'copy', '-ssrc', String(ssrcs[leg.kind]), '-payload_type', String(pt), ...srtp, '-f', 'rtp', url);
      }
      participants.push({ participantId, name: `Participant ${k + 1}` });
    }
    const room = new RoomSenders(conferenceId, participants);
    const ffmpeg = (room.ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    ffmpeg.stderr!.on('data', (d: Buffer) => (room.stderr = (room.stderr + d.toString()).slice(-2000)));
    room.exited = new Promise((r) => ffmpeg.once('exit', () => r()));
    return room;
  }

  get pid(): number | undefined {
    return this.ffmpeg?.pid;
  }

  get running(): boolean {
    return this.ffmpeg !== null && this.ffmpeg.exitCode === null && this.ffmpeg.signalCode === null;
  }

  /** Stops sending and detaches the senders (the conference ends with them). */
  async stop(bus: Bus): Promise<void> {
    if (this.running) this.ffmpeg!.kill('SIGTERM');
    await this.exited;
    for (const p of this.participants) {
      await callBus(bus, busCalls.focusDetachPlain, '', { conferenceId: this.conferenceId, endpointId: p.participantId }).catch(() => {});
    }
  }
}

/** ffmpeg and ffprobe are needed (scripts/bench installs them). */
export function haveFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
