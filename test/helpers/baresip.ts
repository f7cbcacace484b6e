// Debian's baresip as a phone for the SIP gateway's tests: headless, from a generated config directory; what it
// says is a WAV file (the aufile module), what it hears is written to a WAV file (the sndfile module, whose
// "dec" file is the decoded audio it received: baresip 1.0's aufile only reads). G.711 only, as a desk phone.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Baresip {
  process: ChildProcess;
  output(): string;
  /** The decoded audio it heard so far (8 kHz mono), once the call is up. */
  heard(): Int16Array;
  /** Hangs up and quits (SIGINT: baresip sends BYE and closes its files). */
  quit(): Promise<void>;
  /** Presses keys in the call (RFC 4733 telephone-events), through its ctrl_tcp module. */
  sendDigits(digits: string): Promise<void>;
}

/** A tone file for baresip to say: `hz` at 8 kHz mono, `seconds` long. */
export function toneWav(file: string, hz: number, seconds: number): void {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=8000:duration=${seconds}`, '-ac', '1', '-c:a', 'pcm_s16le', '-y', file]);
}

/** Starts baresip in `dir` (made if needed) calling `target` (sip:room@host:port) as `+34600111234`, saying `wav`. */
export function callWithBaresip(dir: string, target: string, wav: string, ctrlPort = 0): Baresip {
  return startBaresip(dir, wav, '127.0.0.1:0', '<sip:+34600111234@127.0.0.1>;regint=0', ['-e', `/dial ${target}`], ctrlPort);
}

/** Starts baresip in `dir` listening on 127.0.0.1:`port` as `user`, answering every call at once, saying `wav`. */
export function answerWithBaresip(dir: string, user: string, port: number, wav: string): Baresip {
  return startBaresip(dir, wav, `127.0.0.1:${port}`, `<sip:${user}@127.0.0.1:${port}>;regint=0;answermode=auto`, []);
}

/** `ctrlPort`: its ctrl_tcp command port (0: none; sendDigits needs one). */
function startBaresip(dir: string, wav: string, listen: string, account: string, args: string[], ctrlPort = 0): Baresip {
  const cfg = path.join(dir, 'cfg');
  const rec = path.join(dir, 'rec');
  mkdirSync(cfg, { recursive: true });
  mkdirSync(rec, { recursive: true });
  writeFileSync(
    path.join(cfg, 'config'),
    [
      'poll_method poll',
      `sip_listen ${listen}`,
      `audio_source aufile,${wav}`,
      // a player nobody listens to: what is heard is taken by sndfile before it
      'audio_player aubridge,nowhere',
      'audio_alert aubridge,nowhere',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      `snd_path ${rec}`,
      ...(ctrlPort ? ['module_app ctrl_tcp.so', `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`] : []),
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(cfg, 'accounts'), `${account}\n`);
  writeFileSync(path.join(cfg, 'contacts'), '');
  const child = spawn('baresip', ['-f', cfg, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    process: child,
    output: () => out,
    heard() {
      const file = readdirSync(rec).find((f) => f.endsWith('-dec.wav'));
      if (!file) return new Int16Array(0);
      const buf = readFileSync(path.join(rec, file));
      const data = buf.indexOf('data', 12);
      if (data < 0) return new Int16Array(0);
      const body = buf.subarray(data + 8);
      const samples = new Int16Array(Math.floor(body.length / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = body.readInt16LE(i * 2);
      return samples;
    },
    sendDigits(digits: string) {
      // ctrl_tcp speaks netstrings of JSON commands; sndcode is the menu's "send code" (DTMF)
      const json = JSON.stringify({ command: 'sndcode', params: digits, token: 'keys' });
      return new Promise<void>((resolve, reject) => {
        const c = net.connect(ctrlPort, '127.0.0.1', () => c.write(`${Buffer.byteLength(json)}:${json},`));
        c.on('data', () => {
          c.end();
          resolve();
        });
        c.on('error', reject);
        setTimeout(() => {
          c.destroy();
          resolve();
        }, 3000);
      });
    },
    async quit() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
