// One synthetic participant (meeting-client.ts) as a process of its own, so that it can run where its network
// can be cut or made lossy (`ip netns exec`): it joins, and whenever its connection ends (the server dropped
// it after a cut) it joins again, until SIGTERM/SIGINT, when it leaves and exits. It prints one JSON line per
// event on stdout: {"event":"joined"|"closed"|"join-failed"|"left", "received": RTP packets so far, ...}.
//   node src/loadtest/meeting-client-process.ts --host 10.251.3.1 --https-port 8443 --room Soak --name Roaming
//     [--media-target 10.251.3.1:40123]
import { parseArgs } from 'node:util';
import { loadMedia } from './media.ts';
import { MeetingClient } from './meeting-client.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    'https-port': { type: 'string' },
    room: { type: 'string', default: 'Soak' },
    name: { type: 'string', default: 'Roaming' },
    index: { type: 'string', default: '900' },
    'local-address': { type: 'string', default: '0.0.0.0' },
    'video-fps': { type: 'string', default: '10' },
    /** host:port where media goes instead (a relay between this participant and the bridge). */
    'media-target': { type: 'string' },
  },
});
if (!values['https-port']) {
  console.error('usage: meeting-client-process.ts --https-port PORT [--host ADDR] [--room NAME] [--name NAME]');
  process.exit(2);
}

const target = values['media-target']?.split(':');
const mediaTarget = target && target.length === 2 ? { address: target[0]!, port: Number(target[1]) } : undefined;
// a parent that stopped reading must not crash this process
process.stdout.on('error', () => {});
const say = (event: string, more: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ event, ...more }) + '\n');
const media = loadMedia();
let client: MeetingClient | null = null;
let stopping = false;
let received = 0;

async function stop(): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  await client?.leave();
  say('left', { received: received + (client?.received ?? 0) });
  process.exit(0);
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

for (let attempt = 0; !stopping; attempt++) {
  const c = new MeetingClient({
    host: values.host,
    httpsPort: Number(values['https-port']),
    room: values.room,
    name: values.name,
    index: Number(values.index) + (attempt % 50),
    media,
    localAddress: values['local-address'],
    videoFps: Number(values['video-fps']),
    mediaTarget,
  });
  client = c;
  try {
    await c.join();
    say('joined', { attempt });
    const { code } = await c.closed;
    if (stopping) break;
    received += c.received;
    say('closed', { code, received });
    await c.leave(true);
  } catch (e) {
    if (stopping) break;
    received += c.received;
    say('join-failed', { error: (e as Error).message.slice(0, 200) });
    await c.leave(true);
  }
  client = null;
  // the network may still be cut: try again soon, as a browser's reconnect does
  await new Promise((r) => setTimeout(r, 2000));
}
