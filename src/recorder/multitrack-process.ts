// The GStreamer child of one multitrack recording (compose/multitrack.py; the process itself: media-child.ts):
// commands as the composer's (crypto, participants, stop). It writes one WebM file per received stream and says
// so (`track`, `track-ended`).
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PortSet } from './port-range.ts';
import type { Logger } from '../log.ts';
import type { ComposerCommand } from './compositor-process.ts';
import { MediaChild, SYSTEM_PYTHON } from './media-child.ts';

const SCRIPT = fileURLToPath(new URL('./compose/multitrack.py', import.meta.url));

export interface MultitrackSettings {
  /** The recording's folder: the files go there. */
  dir: string;
  bindAddress: string;
  srtp: boolean;
  /** The RTP ports to bind (the recorder's range); else the system picks. */
  ports?: PortSet;
}

const port = z.number().int().min(1).max(65535);
const ssrc = z.number().int().min(0).max(0xffffffff);
const fileName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/);
const offsetMs = z.number().int().nonnegative();
const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), videoPort: port, audioPort: port }),
  /** `at`: when it began to take media (epoch ms): offsets count from there. */
  z.object({ event: z.literal('keyed'), at: z.number().int().positive() }),
  z.object({
    event: z.literal('track'),
    ssrc,
    file: fileName,
    kind: z.enum(['audio', 'video']),
    role: z.enum(['camera', 'screen']).nullable(),
    participantId: z.string().min(1).max(128).nullable(),
    offsetMs,
  }),
  z.object({ event: z.literal('track-ended'), ssrc, file: fileName, offsetMs }),
  z.object({ event: z.literal('error'), message: z.string() }),
  z.object({ event: z.literal('stopped'), file: z.null() }),
]);
export type MultitrackEvent = z.infer<typeof eventSchema>;
export type MultitrackCommand = Exclude<ComposerCommand, { cmd: 'layout' }>;

export class MultitrackProcess extends MediaChild<MultitrackEvent, MultitrackCommand> {
  /** Resolves with when it began to take media (epoch ms), after a `crypto` command. */
  readonly keyed: Promise<number>;
  /** A file was begun (its first frame written) or finished. */
  onTrack: (event: Extract<MultitrackEvent, { event: 'track' | 'track-ended' }>) => void = () => {};

  constructor(settings: MultitrackSettings, log: Logger, python = SYSTEM_PYTHON) {
    super({ script: SCRIPT, settings, what: 'multitrack process', eventSchema, log, python });
    this.keyed = this.keyedEvent.then((e) => (e.event === 'keyed' ? e.at : Date.now()));
    this.keyed.catch(() => {});
    this.onEvent = (e) => {
      if (e.event === 'track' || e.event === 'track-ended') this.onTrack(e);
    };
  }
}
