// Several signal instances in this process over one real nats-server with JetStream (room-fanout.ts,
// room-state.ts), each with its own WebSocket port and bus connection, and a fake focus on a connection of its
// own: what the tests of signal across instances start (an instance "dies" by closing its bus connection).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Logger } from '../../src/log.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { roomKey } from '../../src/protocol/signal-messages.ts';
import { startSignal, type SignalServer } from '../../src/signal/index.ts';
import { ROOM_STATE_BUCKET, ROOM_STATE_MAX_BYTES, ROOM_STATE_MAX_VALUE_BYTES, ROOM_STATE_TTL_SECONDS } from '../../src/signal/room-state.ts';
import { itemKey } from '../../src/signal/shared-room-items.ts';
import { startNatsServer, type NatsServer } from './nats.ts';
import { ONE_ADDRESS_TEST_CAPS, WsClient } from './signal-client.ts';

export interface SignalInstance {
  server: SignalServer;
  bus: NatsBus;
  client(): WsClient;
}

export class SignalInstances {
  nats!: NatsServer;
  /** The fake focus's connection (answers focus.join, answer, leave, mute). */
  focusBus!: NatsBus;
  readonly instances: SignalInstance[] = [];
  private readonly clients: WsClient[] = [];
  private readonly tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-instances-'));
  private readonly webRoot = path.join(this.tmp, 'web');
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  async start(): Promise<void> {
    mkdirSync(this.webRoot, { recursive: true });
    writeFileSync(path.join(this.webRoot, 'index.html'), '<!doctype html><title>Tertulia</title>');
    this.nats = await startNatsServer({ jetstream: true });
    this.focusBus = await NatsBus.connect({ url: this.nats.url, log: this.log, reconnectWaitMs: 200 });
    for (const subject of [subjects.focusJoin, subjects.focusAnswer, subjects.focusLeave, subjects.focusMute]) this.focusBus.handle(subject, () => ({ ok: true }));
  }

  /** One more signal instance (`name`: its data directory). */
  async add(name: string): Promise<SignalInstance> {
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, dataDir: path.join(this.tmp, name), logLevel: 'silent', natsUrl: this.nats.url, parts: ['web'], ...ONE_ADDRESS_TEST_CAPS },
    });
    const bus = await NatsBus.connect({ url: this.nats.url, log: this.log, reconnectWaitMs: 200 });
    const server = await startSignal({ bus, config, log: this.log, webRoot: this.webRoot });
    const inst: SignalInstance = {
      server,
      bus,
      client: () => {
        const c = new WsClient(server.httpsPort);
        this.clients.push(c);
        return c;
      },
    };
    this.instances.push(inst);
    return inst;
  }

  /** Drops every client made so far (after a test, so that a failed one leaves nobody in the rooms of the next). */
  dropClients(): void {
    for (const c of this.clients.splice(0)) c.ws.terminate();
  }

  async stop(): Promise<void> {
    this.dropClients();
    for (const i of this.instances) {
      await i.server.close().catch(() => {});
      await i.bus.close();
    }
    await this.focusBus?.close();
    await this.nats?.stop();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Until `check` holds (generous: a loaded machine is slow), else fails naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until instance `i` counts `n` participants in its rooms (its own and the other instances'). */
export function participantsOn(i: SignalInstance, n: number): Promise<void> {
  return until(() => i.server.resourceCounts()['signal.participants'] === n, `${n} participants (have ${i.server.resourceCounts()['signal.participants']})`);
}

/** The stored value of shared room item `item` of room `room` (what a taking-over instance would read), read over `bus`. */
export async function storedItem(bus: NatsBus, item: string, room: string): Promise<unknown> {
  const { store } = await bus.keyValue(ROOM_STATE_BUCKET, { ttlSeconds: ROOM_STATE_TTL_SECONDS, maxValueBytes: ROOM_STATE_MAX_VALUE_BYTES, maxBytes: ROOM_STATE_MAX_BYTES });
  return (await store.get(itemKey(item, roomKey(room))))?.value;
}
