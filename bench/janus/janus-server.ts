// Janus 1.1.2 (Debian's `janus`) as a child process for the side-by-side benchmark: a configuration generated in
// a temporary directory (only the videoroom plugin and the plain-HTTP transport are loaded, by linking just those
// two libraries into its own plugin and transport folders), the HTTP API on 127.0.0.1 and a free port, ICE on the
// loopback interface only, no STUN, and one room whose bitrate cap leaves room for three simulcast layers. The page
// that drives it (janus-client.ts) is served by the benchmark at the same origin, so no CORS is involved.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort, waitForTcp } from '../../test/helpers/ports.ts';

/** Where Debian puts Janus's libraries (amd64 and arm64 multiarch folders). */
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus'];

export const JANUS_ROOM = 1234;
/** The room's REMB cap to each publisher: above the three layers' sum (150 + 500 + 1200 kbit/s) with headroom. */
export const JANUS_ROOM_BITRATE = 4_000_000;

export interface JanusOptions {
  /** Janus's `event_loops` (0: its default, a thread per handle). */
  eventLoops?: number;
  /** Run Janus in a session of its own (setsid): scheduled as a service, not in the caller's autogroup. */
  ownSession?: boolean;
  /**
   * The room's `bitrate` (default JANUS_ROOM_BITRATE): the REMB Janus sends each publisher, 1/4, 1/3, 1/2 and all
   * of it on its first four video packets, then every 5 s. 0: no REMB at all (the publisher's own estimate alone).
   */
  roomBitrate?: number;
}

export interface RunningJanus {
  /** http://127.0.0.1:PORT: the API is at /janus, the benchmark's page is served (by route) at /bench.html. */
  baseUrl: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** The generated janus.jcfg, videoroom and HTTP transport configuration (libconfig syntax), by file name. */
export function janusConfigFiles(dir: string, httpPort: number, rtpRange: [number, number], opts: JanusOptions = {}): Record<string, string> {
  const loops = opts.eventLoops && opts.eventLoops > 0 ? `\n\tevent_loops = ${Math.floor(opts.eventLoops)}` : '';
  return {
    'janus.jcfg': `general: {
\tconfigs_folder = "${dir}/conf"
\tplugins_folder = "${dir}/plugins"
\ttransports_folder = "${dir}/transports"
\tevents_folder = "${dir}/none"
\tloggers_folder = "${dir}/none"
\tdebug_level = 3
\tsession_timeout = 60${loops}
}
media: {
\trtp_port_range = "${rtpRange[0]}-${rtpRange[1]}"
}
nat: {
\tnice_debug = false
\tice_enforce_list = "lo"
\tignore_mdns = true
}
`,
    'janus.transport.http.jcfg': `general: {
\tjson = "plain"
\tbase_path = "/janus"
\thttp = true
\tport = ${httpPort}
\tip = "127.0.0.1"
\thttps = false
}
admin: {
\tadmin_http = false
\tadmin_https = false
}
`,
    'janus.plugin.videoroom.jcfg': `general: {
}
room-${JANUS_ROOM}: {
\tdescription = "bench"
\tpublishers = 16
\tbitrate = ${Math.max(0, Math.floor(opts.roomBitrate ?? JANUS_ROOM_BITRATE))}
\tfir_freq = 10
\taudiocodec = "opus"
\tvideocodec = "vp8"
}
`,
  };
}

function libDir(): string {
  const dir = LIB_DIRS.find((d) => existsSync(path.join(d, 'plugins', 'libjanus_videoroom.so')));
  if (!dir) throw new Error(`Janus's videoroom plugin not found in ${LIB_DIRS.join(', ')} (apt-get install janus)`);
  return dir;
}

export async function startJanus(opts: JanusOptions = {}): Promise<RunningJanus> {
  const lib = libDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-janus-'));
  for (const d of ['conf', 'plugins', 'transports', 'none']) mkdirSync(path.join(dir, d));
  symlinkSync(path.join(lib, 'plugins', 'libjanus_videoroom.so'), path.join(dir, 'plugins', 'libjanus_videoroom.so'));
  symlinkSync(path.join(lib, 'transports', 'libjanus_http.so'), path.join(dir, 'transports', 'libjanus_http.so'));
  const httpPort = await freeTcpPort();
  // a range of its own, away from the usual ephemeral ports, so that two runs at once rarely meet
  const base = 20_000 + Math.floor(Math.random() * 200) * 100;
  for (const [name, text] of Object.entries(janusConfigFiles(dir, httpPort, [base, base + 99], opts))) writeFileSync(path.join(dir, 'conf', name), text);
  const janusArgs = ['-C', path.join(dir, 'conf', 'janus.jcfg'), '-F', path.join(dir, 'conf'), '-o'];
  const child: ChildProcess = spawn(opts.ownSession ? 'setsid' : 'janus', opts.ownSession ? ['janus', ...janusArgs] : janusArgs, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = false;
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  child.on('exit', () => (exited = true));
  child.on('error', (e) => ((out += `\n${e.message}`), (exited = true)));
  try {
    await waitForTcp(httpPort, () => !exited, () => out, 20_000);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    baseUrl: `http://127.0.0.1:${httpPort}`,
    pid: child.pid!,
    output: () => out,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
