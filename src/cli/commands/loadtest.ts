// `tertulia loadtest --url https://host:8443 [--rooms N] [--participants N] [--publishers N] [--duration S]
// [--processes N] [--join-rate N] [--video-fps N] [--room-prefix P] [--json]`: synthetic participants join
// rooms of a running Tertulia server through its real signalling and media path (src/loadtest/), and the
// report says what they got. Its own options; it needs no configuration of this machine.
import { parseArgs } from 'node:util';
import { loadtestOptionsSchema } from '../../loadtest/plan.ts';
import { reportText } from '../../loadtest/report.ts';
import { runLoadtest } from '../../loadtest/run.ts';

export const LOADTEST_USAGE = `Usage: tertulia loadtest --url https://HOST[:PORT] [options]

Synthetic participants (real WebSocket signalling, ICE, DTLS, SRTP; three-layer VP8 simulcast and Opus made
with ffmpeg) join rooms of the server, are measured once all are in, then leave. Exit code 0 when every
participant joined and received every track it should have, 1 otherwise, 2 for bad options.

  --url URL             the server's address as a browser opens it (required)
  --rooms N             rooms (default 1)
  --participants N      participants per room (default 5)
  --publishers N        of them, per room, those sending camera and microphone (default 2); the rest listen
  --duration SECONDS    measured time once everyone is in (default 30)
  --processes N         load tester processes (default: one per 25 participants, at most one per CPU)
  --join-rate N         joins per second (default 10)
  --video-fps N         publishers' frame rate (default 30)
  --room-prefix P       rooms are P-1, P-2, ... (default loadtest-<random>)
  --json                the report as JSON

The server caps what one address may open (maxConnectionsPerAddress 100, maxParticipantsPerAddress 50,
maxRoomsPerAddressPerMinute 10 by default): raise them on the server for a big test, or run the load tester
from several machines. A server that requires passwords or tokens refuses these participants.
`;

const OPTIONS = {
  url: { type: 'string' },
  rooms: { type: 'string' },
  participants: { type: 'string' },
  publishers: { type: 'string' },
  duration: { type: 'string' },
  processes: { type: 'string' },
  'join-rate': { type: 'string' },
  'video-fps': { type: 'string' },
  'room-prefix': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runLoadtestCommand(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    process.stderr.write(`tertulia loadtest: ${(e as Error).message.split('\n')[0]}\n\n${LOADTEST_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(LOADTEST_USAGE);
    return 0;
  }
  const parsed = loadtestOptionsSchema.safeParse({
    url: values.url,
    rooms: values.rooms,
    participants: values.participants,
    publishers: values.publishers,
    duration: values.duration,
    processes: values.processes,
    joinRate: values['join-rate'],
    videoFps: values['video-fps'],
    roomPrefix: values['room-prefix'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    process.stderr.write(`tertulia loadtest: --${flag}: ${values[flag as keyof typeof values] === undefined && flag === 'url' ? 'required' : issue.message}\n\n${LOADTEST_USAGE}`);
    return 2;
  }
  const progress = (line: string) => process.stderr.write(`loadtest: ${line}\n`);
  try {
    const report = await runLoadtest(parsed.data, progress);
    process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : reportText(report));
    return report.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`tertulia loadtest: ${(e as Error).message}\n`);
    return 1;
  }
}
