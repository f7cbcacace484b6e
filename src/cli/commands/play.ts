// `tertulia play FILE --room NAME [--name NAME] [--loop]`: a participant named after the file joins the room and
// plays it (its first video and audio stream) over plain RTP: ffmpeg encodes VP8 and Opus, SDES-keyed SRTP to
// the bridge's ports from the server's reply. It leaves when the file ends, on Ctrl-C, or when a moderator
// removes it (the server closes the control connection). When the meeting's bridge goes away the server says
// where its endpoint moved (`moved`): ffmpeg is started again toward the new bridge, with its key, from the
// point of the file it had reached when the old endpoint was lost, however long the move took (the same SSRCs:
// the meeting sees the same participant go on).
import { execFile, type ChildProcess } from 'node:child_process';
import { spawnTied } from '../../tied-child.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../config/config.ts';
import { controlPlayMovedSchema, controlPlayReplySchema, type ControlPlayReply } from '../../protocol/control-messages.ts';
import { MAX_DISPLAY_NAME } from '../../protocol/display-name.ts';
import { AUDIO_PT, VIDEO_PT } from '../../protocol/media-profile.ts';
import type { MediaKind } from '../../protocol/signal-messages.ts';
import { connectControl, ControlError } from '../control-client.ts';

export const PLAY_USAGE = 'usage: tertulia play FILE --room NAME [--name NAME] [--loop]';
const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
/** RTP packets this large at most (SRTP adds 10 bytes; well under any path's MTU). */
const PACKET_SIZE = 1200;

/** Which of audio and video the file has (ffprobe). */
export async function fileKinds(file: string): Promise<MediaKind[]> {
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'json', file]);
  const types = new Set((JSON.parse(stdout) as { streams?: { codec_type?: string }[] }).streams?.map((s) => s.codec_type));
  return (['audio', 'video'] as const).filter((k) => types.has(k));
}

/** How long the file plays, in seconds (ffprobe; undefined when it does not say). */
async function fileDuration(file: string): Promise<number | undefined> {
  try {
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const d = Number(stdout.trim());
    return Number.isFinite(d) && d > 0 ? d : undefined;
  } catch {
    return undefined;
  }
}

/** Where the bridge receives each kind, from the server's reply (or a `moved`). */
function portsOf(legs: ControlPlayReply['legs']): Partial<Record<MediaKind, number>> {
  const ports: Partial<Record<MediaKind, number>> = {};
  for (const l of legs) if (l.kind !== 'all') ports[l.kind] = l.port;
  return ports;
}

/**
 * ffmpeg's arguments: read at its own pace, VP8 and Opus, one SRTP output per kind; `startAt` seconds into the
 * file (going on after a move to another bridge).
 */
export function playArguments(
  file: string,
  loop: boolean,
  out: { address: string; ports: Partial<Record<MediaKind, number>>; ssrcs: Partial<Record<MediaKind, number>>; srtpKey: string },
  startAt = 0,
): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'];
  if (loop) args.push('-stream_loop', '-1');
  if (startAt > 0) args.push('-ss', startAt.toFixed(3));
  args.push('-i', file);
  const srtp = ['-srtp_out_suite', SRTP_SUITE, '-srtp_out_params', out.srtpKey];
  const url = (port: number) => `srtp://${out.address}:${port}?rtcpport=${port}&pkt_size=${PACKET_SIZE}`;
  if (out.ports.video !== undefined) {
    // a keyframe every second: the bridge cannot ask ffmpeg for one when someone joins
    args.push('-map', '0:v:0', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1');
    args.push('-b:v', '1200k', '-force_key_frames', 'expr:gte(t,n_forced*1)', '-vf', "scale='min(1280,iw)':-2", '-pix_fmt', 'yuv420p');
    args.push('-ssrc', String(out.ssrcs.video), '-payload_type', String(VIDEO_PT), ...srtp, '-f', 'rtp', url(out.ports.video));
  }
  if (out.ports.audio !== undefined) {
    args.push('-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k');
    args.push('-ssrc', String(out.ssrcs.audio), '-payload_type', String(AUDIO_PT), ...srtp, '-f', 'rtp', url(out.ports.audio));
  }
  return args;
}

/**
 * Where in the file to go on after a move, in seconds, or undefined when it had played to its end already: the
 * point ffmpeg had reached when the old endpoint was lost (`lostMsAgo` before `now`; nothing sent after that was
 * heard), i.e. `position` (where it started) plus its run until then, never before `startedAt` (the loss came
 * before this ffmpeg started: it goes on from its start). A loop goes round the file.
 */
export function resumePosition(o: { position: number; startedAt: number; now: number; lostMsAgo?: number; loop: boolean; duration?: number }): number | undefined {
  const lostAt = o.now - Math.max(0, o.lostMsAgo ?? 0);
  let at = o.position + Math.max(0, lostAt - o.startedAt) / 1000;
  if (o.loop && o.duration !== undefined) at %= o.duration;
  if (!o.loop && o.duration !== undefined && at >= o.duration) return undefined;
  return at;
}

export async function runPlayCommand(rest: string[], options: { room?: string; name?: string; loop?: boolean }, config: Config): Promise<number> {
  const file = rest[0];
  if (!file || rest.length > 1 || !options.room) {
    process.stderr.write(`tertulia: ${PLAY_USAGE}\n`);
    return 2;
  }
  if (!existsSync(file)) {
    process.stderr.write(`tertulia: no such file: ${file}\n`);
    return 2;
  }
  let kinds: MediaKind[];
  try {
    kinds = await fileKinds(file);
  } catch (e) {
    process.stderr.write(`tertulia: ffprobe cannot read ${file}: ${(e as Error).message.split('\n')[1] ?? (e as Error).message}\n`);
    return 2;
  }
  if (kinds.length === 0) {
    process.stderr.write(`tertulia: ${file} has neither audio nor video\n`);
    return 2;
  }
  const name = (options.name ?? path.basename(file)).slice(0, MAX_DISPLAY_NAME);
  try {
    const control = await connectControl(config.dataDir);
    const reply = controlPlayReplySchema.parse(await control.ask({ op: 'play', room: options.room, name, kinds }));
    const loop = options.loop === true;
    const duration = await fileDuration(file);
    // the running ffmpeg; the command ends when it exits (one replaced after a move does not count)
    let ffmpeg: ChildProcess;
    /** The ffmpegs this command stopped (Ctrl-C, the end of the playback, a move): their complaints are not errors. */
    const stopping = new WeakSet<ChildProcess>();
    let startedAt = Date.now();
    let position = 0;
    let finished: (code: number | null) => void = () => {};
    const exited = new Promise<number | null>((r) => (finished = r));
    const run = (out: { address: string; legs: ControlPlayReply['legs']; srtpKey: string }, startAt: number) => {
      const p = spawnTied('ffmpeg', playArguments(file, loop, { address: out.address, ports: portsOf(out.legs), ssrcs: reply.ssrcs, srtpKey: out.srtpKey }, startAt), {
        stdio: ['ignore', 'ignore', 'pipe'], // its stdout is the SDP of what it sends
      });
      // its errors, unless this command stopped it (ffmpeg stopped mid-stream complains of its own stop)
      p.stderr!.on('data', (chunk: Buffer) => {
        if (!stopping.has(p)) process.stderr.write(chunk);
      });
      p.once('exit', (c) => {
        if (p === ffmpeg) finished(c);
      });
      ffmpeg = p;
      startedAt = Date.now();
      position = startAt;
    };
    run(reply, 0);
    control.onEvent = (event) => {
      const moved = controlPlayMovedSchema.safeParse(event);
      if (!moved.success) return;
      const at = resumePosition({ position, startedAt, now: Date.now(), lostMsAgo: moved.data.lostMsAgo, loop, duration });
      if (at === undefined) return; // it had played to the end already
      const old = ffmpeg;
      run(moved.data, at);
      stopping.add(old);
      old.kill('SIGTERM');
      process.stdout.write(`The meeting moved to another bridge: playing on from ${at.toFixed(1)} s.\n`);
    };
    process.stdout.write(`Playing ${file} in room "${options.room}" as "${name}" (${kinds.join(' and ')}). Ctrl-C stops.\n`);
    const stop = () => {
      stopping.add(ffmpeg);
      ffmpeg.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let removed = false;
    void control.closed.then(() => {
      removed = true;
      stop();
    });
    const code = await exited;
    control.close();
    if (removed) {
      process.stdout.write('The server ended the playback (removed from the meeting, or the server stopped).\n');
      return 0;
    }
    return code === 0 || code === 255 || code === null ? 0 : 1; // 255: ffmpeg stopped by a signal
  } catch (e) {
    if (e instanceof ControlError) {
      process.stderr.write(`tertulia: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
