// `tertulia tap --room NAME --participant WHO [--out FILE] [--seconds N]`: records one participant's microphone
// and camera as the bridge forwards them (plain RTP, SDES-keyed SRTP) with ffmpeg, into a Matroska file
// (VP8 + Opus, no re-encoding). WHO is a display name or a participant id. Stops after N seconds, on Ctrl-C,
// or when the server ends the tap.
import { spawnTied } from '../../tied-child.ts';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../config/config.ts';
import { controlTapReplySchema } from '../../protocol/control-messages.ts';
import { connectControl, ControlError } from '../control-client.ts';

export const TAP_USAGE = 'usage: tertulia tap --room NAME --participant WHO [--out FILE.mkv] [--seconds N]';

/** A UDP port free on this machine now (and the next one, which ffmpeg takes for RTCP). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const s = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
    s.close();
    if (port % 2 !== 0 || port > 65000) continue;
    const t = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      t.once('error', () => r(false));
      t.bind(port + 1, '127.0.0.1', () => r(true));
    });
    t.close();
    if (ok) return port;
  }
}

/** True once some process has `port` bound for UDP (ffmpeg opened its input). */
function udpPortBound(port: number): boolean {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      // each line: sl local_address(hex ip:hex port) rem_address ...
      if (readFileSync(table, 'utf8').split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix))) return true;
    } catch {
      // no such table
    }
  }
  return false;
}

export async function runTapCommand(options: { room?: string; participant?: string; out?: string; seconds?: string }, config: Config): Promise<number> {
  const seconds = options.seconds === undefined ? undefined : Number(options.seconds);
  if (!options.room || !options.participant || (seconds !== undefined && !(seconds > 0))) {
    process.stderr.write(`tertulia: ${TAP_USAGE}\n`);
    return 2;
  }
  const out = options.out ?? `${options.room}-${options.participant}-${new Date().toISOString().replace(/[:.]/g, '-')}.mkv`.replace(/[^\w.-]/g, '_');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-tap-'));
  try {
    const control = await connectControl(config.dataDir);
    const audio = await freePortPair();
    let video = await freePortPair();
    while (video === audio) video = await freePortPair();
    const reply = controlTapReplySchema.parse(
      await control.ask({ op: 'tap', room: options.room, participant: options.participant, address: '127.0.0.1', ports: { audio, video }, rtcpMux: true }),
    );
    const sdpFile = path.join(dir, 'tap.sdp');
    writeFileSync(sdpFile, reply.sdp, { mode: 0o600 }); // it holds the key
    const ffmpeg = spawnTied('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp,srtp,crypto', '-i', sdpFile, '-c', 'copy', '-y', out], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((r) => ffmpeg.once('exit', (c) => r(c)));
    // media starts once ffmpeg listens: its first keyframe must not be lost
    for (let i = 0; i < 100 && ffmpeg.exitCode === null && !(udpPortBound(audio) && udpPortBound(video)); i++) await new Promise((r) => setTimeout(r, 50));
    await control.ask({ op: 'start' });
    process.stdout.write(`Recording ${options.participant} in room "${options.room}" to ${out}${seconds ? ` for ${seconds} s` : ''}. Ctrl-C stops.\n`);
    const stop = () => {
      if (ffmpeg.exitCode === null) ffmpeg.stdin!.write('q');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const timer = seconds ? setTimeout(stop, seconds * 1000) : undefined;
    void control.closed.then(stop);
    const code = await exited;
    clearTimeout(timer);
    control.close();
    return code === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof ControlError) {
      process.stderr.write(`tertulia: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
