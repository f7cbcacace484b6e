// The GStreamer child of one composed recording or live stream (compose/compose.py; the process itself:
// media-child.ts): its settings, commands and events. A live stream's address
// (it holds the stream key) goes on stdin, never in argv (which every user of the machine may read), and is
// cut out of any line logged.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { MediaChild, SYSTEM_PYTHON } from './media-child.ts';
import type { PortSet } from './port-range.ts';

export { SYSTEM_PYTHON };
const SCRIPT = fileURLToPath(new URL('./compose/compose.py', import.meta.url));

export interface ComposerSettings {
  /** The file to write; null for a live stream. */
  output: string | null;
  /** A live stream: the picture and sound go to an RTMP server (the `stream` command says which). */
  stream?: boolean;
  /** The RTP ports to bind (the recorder's range); else the system picks. */
  ports?: PortSet;
  width: number;
  height: number;
  fps: number;
  /** kbit/s */
  videoBitrate: number;
  layout: 'grid' | 'speaker';
  /** The IPv4 address its UDP sockets bind to (the bridge sends there). */
  bindAddress: string;
  srtp: boolean;
}

const port = z.number().int().min(1).max(65535);
const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), videoPort: port, audioPort: port }),
  z.object({ event: z.literal('keyed') }),
  z.object({
    event: z.literal('layout'),
    layout: z.enum(['grid', 'speaker']).optional(),
    tiles: z.number().int().nonnegative(),
    /** How large each video is drawn (0x0: not drawn), for the simulcast layer the bridge sends. */
    videos: z.array(z.object({ ssrc: z.number().int().min(0).max(0xffffffff), width: z.number().int().min(0).max(16384), height: z.number().int().min(0).max(16384) })).max(1024).optional(),
  }),
  z.object({ event: z.literal('error'), message: z.string() }),
  z.object({ event: z.literal('stopped'), file: z.string().nullable() }),
  z.object({ event: z.literal('stream'), state: z.enum(['live', 'interrupted']), message: z.string().optional(), retryIn: z.number().optional() }),
]);
export type ComposerEvent = z.infer<typeof eventSchema>;

export type ComposerCommand =
  | { cmd: 'crypto'; key: string; sendKey: string; bridge: { address: string; videoRtcpPort: number } }
  | {
      cmd: 'participants';
      participants: { id: string; name: string; sources: { ssrc: number; kind: 'audio' | 'video'; role?: 'video' | 'screen' }[] }[];
      speaker?: string;
    }
  | { cmd: 'layout'; layout: 'grid' | 'speaker' }
  | { cmd: 'stream'; url: string }
  | { cmd: 'stop' };

export class ComposerProcess extends MediaChild<ComposerEvent, ComposerCommand> {
  /** Live stream events: connected (data flows), or the connection failed or dropped (it is retried). */
  onStream: (state: 'live' | 'interrupted', message: string) => void = () => {};
  /** Each new layout: how large it draws each video. */
  onLayout: (videos: { ssrc: number; width: number; height: number }[]) => void = () => {};
  /** Resolves once it has the SRTP key (after a `crypto` command): media may flow. */
  readonly keyed: Promise<void>;

  constructor(settings: ComposerSettings, log: Logger, python = SYSTEM_PYTHON, secrets: string[] = []) {
    super({ script: SCRIPT, settings, what: 'composer', eventSchema, log, python, secrets });
    this.keyed = this.keyedEvent.then(() => {});
    this.keyed.catch(() => {});
    this.onEvent = (e) => {
      if (e.event === 'layout' && e.videos) this.onLayout(e.videos);
      if (e.event === 'stream') this.onStream(e.state, this.clean(e.message ?? ''));
    };
  }
}
