// `tertulia start`: every part in this process (signal, focus, bridge, recorder, sip), or some of them (--parts) with the
// others elsewhere, linked by NATS (--nats-url). Runs until SIGINT/SIGTERM. With NATS, SIGTERM drains a bridge
// first (focus moves its conferences to other bridges; with none, it waits up to bridgeDrainTimeout for them
// to end), then everything stops; SIGINT stops at once.
// Stopping never depends on the console: nothing written to stdout/stderr is waited for (their reader may be
// gone, or stuck), the forced exit is armed before anything is logged, and a second signal exits at once.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Bus } from '../../bus/bus.ts';
import { MemoryBus } from '../../bus/memory-bus.ts';
import { envNames, PART_NAMES, type Config, type PartName } from '../../config/config.ts';
import { settingsChange } from '../../config/reload.ts';
import { createLogger, flushLogs, type Logger } from '../../log.ts';
import { PART_LABEL, partsMessage, startupMessage } from './start-messages.ts';
// The parts (signal, focus, bridge) are imported when they start, so --help and `config` answer at once.

/** This bridge's id on the bus: the bridgeId setting, else <short hostname>-<media port>. */
export function effectiveBridgeId(config: Config, hostname: string = os.hostname()): string {
  if (config.bridgeId) return config.bridgeId;
  const host = (hostname.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'bridge';
  return config.mediaPort ? `${host}-${config.mediaPort}` : `${host}-${randomBytes(3).toString('hex')}`;
}

/** Why `start` cannot run with these parts, or undefined. */
export function partsProblem(config: Config): string | undefined {
  const all = PART_NAMES.every((p) => config.parts.includes(p));
  if (all || config.natsUrl) return undefined;
  return (
    `--parts ${config.parts.join(',')} needs --nats-url (${envNames.natsUrl}): the other parts run in other processes ` +
    'or machines and are reached only through a NATS server. Without one, leave --parts out to run every part here.'
  );
}

interface Closable {
  close(): Promise<void>;
}

async function closeAll(parts: (Closable | undefined)[], log: Logger): Promise<void> {
  for (const part of parts) {
    if (!part) continue;
    try {
      await part.close();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'error while stopping');
    }
  }
}

async function connectBus(config: Config, log: Logger): Promise<{ bus: Bus; shown: string }> {
  if (!config.natsUrl) return { bus: new MemoryBus(), shown: '' };
  const { NatsBus } = await import('../../bus/nats-bus.ts');
  const parts = config.parts.map((p) => PART_LABEL[p]).join('+');
  const bus = await NatsBus.connect({
    url: config.natsUrl,
    user: config.natsUser || undefined,
    password: config.natsPassword || undefined,
    token: config.natsToken || undefined,
    log,
    name: `tertulia ${parts} on ${os.hostname()}`,
  });
  return { bus, shown: bus.server };
}

/** How long a stop may take before the process exits anyway. */
export const FORCED_EXIT_MS = 8000;

/** Writes to stderr, never throwing and never waiting (it may be a closed or full pipe). */
function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // nobody to tell
  }
}

async function start(config: Config, reload: () => Config): Promise<void> {
  // a console whose reader is gone (EPIPE) must not crash the server: its 'error' events are dropped
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const log = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason instanceof Error ? reason.message : String(reason), stack: reason instanceof Error ? reason.stack : undefined }, 'unhandled rejection');
  });
  // the JavaScript build (dist/, scripts/server-dist.mjs) or the TypeScript sources (src/): scripts/launch.mjs chose
  log.info({ code: new URL(import.meta.url).pathname.endsWith('.js') ? 'dist (JavaScript build)' : 'src (TypeScript)' }, 'starting');
  const runs = (part: PartName) => config.parts.includes(part);
  let bus: Bus;
  let natsShown: string;
  try {
    ({ bus, shown: natsShown } = await connectBus(config, log));
  } catch (e) {
    process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const [{ startFocus }, { startBridge }, { startSignal }, { startRecorder }, { startSip }, { startTurn }] = await Promise.all([
    runs('focus') ? import('../../focus/index.ts') : { startFocus: undefined },
    runs('bridge') ? import('../../bridge/index.ts') : { startBridge: undefined },
    runs('signal') ? import('../../signal/index.ts') : { startSignal: undefined },
    runs('recorder') ? import('../../recorder/index.ts') : { startRecorder: undefined },
    runs('sip') ? import('../../sip/index.ts') : { startSip: undefined },
    runs('signal') ? import('../../turn/turn-service.ts') : { startTurn: undefined },
  ]);
  // one server per data directory: refused before any part starts (TURN would take the other one's coturn for a
  // leftover of a crash and stop it)
  if (runs('signal')) {
    const { dataDirInUse } = await import('../../signal/control.ts');
    const inUse = await dataDirInUse(config.dataDir);
    if (inUse !== undefined) {
      process.stderr.write(`tertulia: cannot start: ${inUse}\n`);
      await bus.close().catch(() => {});
      process.exit(1);
    }
  }
  // focus first: it must hear the bridge's first announcement
  const focus = startFocus?.({ bus, config, log });
  let bridge: Awaited<ReturnType<NonNullable<typeof startBridge>>> | undefined;
  let signal: Awaited<ReturnType<NonNullable<typeof startSignal>>> | undefined;
  let sip: Awaited<ReturnType<NonNullable<typeof startSip>>> | undefined;
  // TURN lives with signal: TURN over TLS shares its HTTPS port (src/turn/)
  let turn: Awaited<ReturnType<NonNullable<typeof startTurn>>> | undefined;
  const recorder = startRecorder?.({ bus, config, log });
  try {
    bridge = await startBridge?.({ bus, config, log, bridgeId: effectiveBridgeId(config) });
    turn = await startTurn?.(config, log.child({ part: 'turn' }));
    signal = await startSignal?.({ bus, config, log, turn });
    sip = await startSip?.({ bus, config, log });
  } catch (e) {
    process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
    await closeAll([sip, signal, turn, recorder, bridge, focus, bus], log);
    process.exit(1);
  }

  let resources: Closable | undefined;
  let metrics: Closable | undefined;
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      say('tertulia: stopping now\n');
      process.exit(1);
    }
    stopping = true;
    // a bridge other bridges can take over from drains first (not on SIGINT, nor without NATS)
    const drainMs = sig === 'SIGTERM' && bridge && config.natsUrl ? Math.round(config.bridgeDrainTimeout * 1000) : 0;
    const force = setTimeout(() => {
      say('tertulia: stopping took too long; exiting\n');
      process.exit(1);
    }, drainMs + FORCED_EXIT_MS);
    force.unref();
    log.info({ signal: sig, drainMs }, 'stopping');
    // the SIP gateway first (callers hang up), signal (participants leave, focus tells the bridge), the recorder
    // (its files finish), then the bridge, then focus and the bus; then the last log lines get a moment to leave
    // (not more: their reader may be gone or stuck)
    void (drainMs > 0 ? bridge!.drain(drainMs) : Promise.resolve(true))
      .catch((e: unknown) => log.error({ err: (e as Error).message }, 'draining the bridge failed'))
      .then(() => closeAll([metrics, resources, sip, signal, turn, recorder, bridge, focus, bus], log))
      .then(() => flushLogs(1000))
      .finally(() => process.exit(0));
  };
  // resourcesPort: what this process holds, on the loopback address only (off by default)
  if (config.resourcesPort > 0) {
    const { startResourcesEndpoint } = await import('../../resources/resources-endpoint.ts');
    const { processResourceCounts } = await import('../../resources/process-resources.ts');
    try {
      resources = await startResourcesEndpoint({
        port: config.resourcesPort,
        log,
        read: async (gc) => ({ ...processResourceCounts(), ...signal?.resourceCounts(), ...focus?.resourceCounts(), ...sip?.resourceCounts(), ...(await bridge?.resourceCounts(gc)) }),
      });
    } catch (e) {
      process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
      await closeAll([sip, signal, turn, bridge, focus, bus], log);
      process.exit(1);
    }
  }
  // metricsAddress: /metrics, /healthz, /readyz, /about/health, /colibri/stats of this process's parts (off by default)
  if (config.metricsAddress) {
    const { startMetricsEndpoint } = await import('../../metrics/metrics-endpoint.ts');
    try {
      metrics = await startMetricsEndpoint({
        address: config.metricsAddress,
        token: config.metricsToken,
        log,
        sources: { parts: config.parts, bus, signal, turn, focus, bridge, recorder, sip, maxRecordings: config.maxRecordingsPerRecorder },
      });
    } catch (e) {
      process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
      await closeAll([resources, sip, signal, turn, recorder, bridge, focus, bus], log);
      process.exit(1);
    }
  }
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP: the settings read again; those that can change live are applied (config/reload.ts)
  let current = config;
  process.on('SIGHUP', () => {
    if (stopping) return;
    let change;
    try {
      change = settingsChange(current, reload());
      signal?.reconfigure(change.effective);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'settings not reloaded (nothing changed)');
      return;
    }
    if (change.live.includes('turnSecret')) turn?.setSecret(change.effective.turnSecret).catch((e: unknown) => log.error({ err: (e as Error).message }, 'TURN: the new secret was not applied'));
    if (change.live.includes('lastN')) bridge?.setLastN(change.effective.lastN).catch((e: unknown) => log.error({ err: (e as Error).message }, 'lastN not applied'));
    current = change.effective;
    // the reload's own line at the louder of the two levels: one that quiets the log still says it happened
    const next = change.effective.logLevel;
    if (log.levels.values[next]! < log.levels.values[log.level]!) log.level = next;
    log.info({ applied: change.live, needRestart: change.restart }, change.restart.length > 0 ? 'settings reloaded; some need a restart' : 'settings reloaded');
    log.level = next;
  });

  const message = signal
    ? startupMessage({ config, httpsPort: signal.httpsPort, httpPort: signal.httpPort, mediaPort: bridge?.mediaPort, tcpMediaPort: bridge?.tcpMediaPort, sipPort: sip?.port, selfSigned: signal.selfSignedCertificate, turn: turn?.status() }) +
      (natsShown ? `\nParts here: ${config.parts.map((p) => PART_LABEL[p]).join(', ')}; connected to NATS at ${natsShown}.` : '')
    : partsMessage({ config, bridgeId: bridge?.bridgeId, mediaPort: bridge?.mediaPort, tcpMediaPort: bridge?.tcpMediaPort, sipPort: sip?.port, nats: natsShown });
  try {
    process.stdout.write(message + '\nTertulia is ready\n');
  } catch {
    // a console nobody reads
  }
}

/** Checks the parts setting, then starts; -1 while running (the process ends on SIGINT/SIGTERM), 2 for a bad setting. */
export async function runStartCommand(config: Config, reload: () => Config = () => config): Promise<number> {
  const problem = partsProblem(config);
  if (problem) {
    process.stderr.write(`tertulia: ${problem}\n`);
    return 2;
  }
  await start(config, reload);
  return -1;
}
