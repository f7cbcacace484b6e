// Signal split over processes, end to end: a nats-server with JetStream, one process with the media parts
// (focus, bridge, maybe recorder) and `--parts web` signal processes, each a real `tertulia start` (a test may
// SIGKILL one), and WebSocket clients to them (closed at the end).
import { startServer, type RunningServer } from './server.ts';
import { startNatsServer, type NatsServer } from './nats.ts';
import { WsClient } from './signal-client.ts';

export class SignalProcesses {
  nats!: NatsServer;
  media!: RunningServer;
  readonly signals: RunningServer[] = [];
  private readonly clients: WsClient[] = [];

  /** NATS, the media process with `mediaParts` (e.g. 'focus,bridge') and `count` signal processes. */
  async start(mediaParts: string, count: number): Promise<void> {
    this.nats = await startNatsServer({ jetstream: true });
    const common = { TERTULIA_NATS_URL: this.nats.url, TERTULIA_LOG_LEVEL: 'info' };
    this.media = await startServer({ ...common, TERTULIA_PARTS: mediaParts });
    for (let i = 0; i < count; i++) this.signals.push(await startServer({ ...common, TERTULIA_PARTS: 'web' }));
  }

  /** A WebSocket client to signal process `s`. */
  client(s: RunningServer): WsClient {
    const c = new WsClient(s.httpsPort);
    this.clients.push(c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.ws.terminate();
    for (const s of this.signals) await s.stop();
    await this.media?.stop();
    await this.nats?.stop();
  }
}
