// Entry of one media worker thread: a WorkerBridge on its own SO_REUSEPORT socket, driven by the control
// thread (pool.ts) with messages; packets from the other workers arrive through PacketRings.
import { parentPort, workerData } from 'node:worker_threads';
import type { Bus, Json } from '../../bus/bus.ts';
import type { Config } from '../../config/config.ts';
import { createLogger } from '../../log.ts';
import { activeHandleCounts, forceGc, threadHeapUsed, threadMemory } from '../../resources/process-resources.ts';
import type { BridgeCertificate } from '../certificate.ts';
import { nativeUdp } from '../native/udp-batch.ts';
import { PacketRing } from './packet-ring.ts';
import { RingConsumer } from './ring-consumer.ts';
import { WorkerBridge, type PeerUpdate } from './worker-bridge.ts';
import { receiverReportBuckets } from '../receiver-reports.ts';
import { loadDtls } from '../dtls.ts';
import { SharedCounters } from './shared-counters.ts';

export interface MediaWorkerData {
  workerIndex: number;
  workerCount: number;
  bridgeId: string;
  config: Config;
  logLevel: string;
  certificate: BridgeCertificate;
  consentTimeoutMs?: number;
  rtcpIndexes: SharedArrayBuffer;
  /** ring SABs by [from][to]; null on the diagonal */
  rings: Array<Array<SharedArrayBuffer | null>>;
  /** Its counters' slot (shared-counters.ts). */
  counters: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'bind'; address: string; port: number }
  | { type: 'listenTcp'; address: string; port: number }
  | { type: 'op'; id: number; op: 'allocate' | 'configure' | 'sources' | 'subscribe' | 'constraints' | 'mute' | 'expire' | 'lastN'; payload: Record<string, unknown> }
  | { type: 'peer'; update: PeerUpdate }
  | { type: 'counters'; id: number }
  /** Its resource counts (endpoints, timers, handles, its heap after a GC when `gc`), answered like counters. */
  | { type: 'resources'; id: number; gc: boolean }
  /** Its receivers' reports (receiver-reports.ts bucket counts), answered like counters. */
  | { type: 'reports'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'bound'; port: number }
  | { type: 'tcpBound'; port: number }
  | { type: 'bindError'; message: string }
  | { type: 'event'; subject: string; payload: Json }
  | { type: 'peer'; update: PeerUpdate }
  | { type: 'counters'; id: number; counters: Record<string, number> }
  /** A control request is applied (or failed: `error`). */
  | { type: 'applied'; id: number; error?: string; result?: Json }
  | { type: 'closed' };

const TICK_INTERVAL_MS = 1000;

function main(): void {
  const port = parentPort!;
  const data = workerData as MediaWorkerData;
  const post = (m: FromWorker) => port.postMessage(m);
  const log = createLogger(data.logLevel).child({ part: 'bridge', bridgeId: data.bridgeId, worker: data.workerIndex });
  const me = data.workerIndex;
  // top -H, perf and /proc then tell the media workers apart (Node names every thread "node")
  nativeUdp()?.setThreadName?.(`tertulia-media${me}`);
  const certificate: BridgeCertificate = { ...data.certificate, der: Buffer.from(data.certificate.der) };

  let bridge: WorkerBridge;
  const sharedCounters = new SharedCounters(data.counters);
  // the bridge publishes connected/disconnected events; the control thread puts them on the real bus
  const bus: Bus = {
    publish(subject, payload) {
      if (!bridge.expiring) post({ type: 'event', subject, payload });
    },
    subscribe: () => () => {},
    handle: () => () => {},
    request: () => Promise.reject(new Error('a media worker sends no bus requests')),
    keyValue: () => Promise.reject(new Error('a media worker keeps no state on the bus')),
    connected: () => true,
    close: () => Promise.resolve(),
  };
  bridge = new WorkerBridge({
    bus,
    config: data.config,
    log,
    bridgeId: data.bridgeId,
    certificate,
    consentTimeoutMs: data.consentTimeoutMs,
    workerIndex: me,
    workerCount: data.workerCount,
    rtcpIndexes: new Int32Array(data.rtcpIndexes),
    rings: data.rings[me].map((sab) => (sab === null ? null : new PacketRing(sab))),
    sendPeerUpdate: (update) => post({ type: 'peer', update }),
    // the counters reach the control thread through shared memory: every COPY_EVERY_MS with the media clock
    // while this worker has media (no wake-up of its own), else once a second with the tick below (its counters
    // then seldom change, and an idle thread woken ten times a second costs more than the copy)
    copyCounters: () => sharedCounters.write(bridge.countersNow()),
  });

  const incoming: PacketRing[] = [];
  for (let from = 0; from < data.workerCount; from++) {
    const sab = data.rings[from][me];
    if (sab !== null) incoming.push(new PacketRing(sab));
  }
  const consumer = new RingConsumer(incoming, bridge.onPeerPacket);

  const tick = setInterval(() => {
    try {
      bridge.tick();
      sharedCounters.write(bridge.countersNow());
    } catch (e) {
      log.error({ err: (e as Error).message }, 'bridge maintenance failed');
    }
  }, TICK_INTERVAL_MS);

  port.on('message', (m: ToWorker) => {
    // whatever the message does (a NACK or feedback another worker received, an operation) comes after what the
    // native routes forwarded before it
    bridge.bookForwarded();
    try {
      switch (m.type) {
        case 'listenTcp':
          bridge.listenTcp(m.address, m.port).then(
            (p) => post({ type: 'tcpBound', port: p }),
            () => post({ type: 'tcpBound', port: 0 }),
          );
          break;
        case 'bind':
          // a media worker runs handshakes: werift is loaded before it reports bound (as when it was imported)
          Promise.all([bridge.udp.bind(m.address, m.port), loadDtls()]).then(
            ([p]) => post({ type: 'bound', port: p }),
            (e: Error) => post({ type: 'bindError', message: e.message }),
          );
          break;
        case 'op': {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any -- validated by the control thread
          const p = m.payload as any;
          if (m.op === 'allocate' && p.plain !== undefined) {
            // its sockets open asynchronously (in the endpoint's home worker only)
            const id = m.id;
            bridge.allocatePlainNumbered(p).then(
              (description) => post(description === null ? { type: 'applied', id } : { type: 'applied', id, result: description as unknown as Json }),
              (e: Error) => post({ type: 'applied', id, error: e.message }),
            );
            break;
          }
          if (m.op === 'allocate') bridge.allocateNumbered(p);
          else if (m.op === 'configure') bridge.configure(p);
          else if (m.op === 'sources') bridge.setSources(p.conferenceId, p.endpointId, p.sources);
          else if (m.op === 'subscribe') bridge.subscribe(p.conferenceId, p.endpointId, p.ssrcs, p.slots, p.session);
          else if (m.op === 'constraints') bridge.setVideoConstraints(p.conferenceId, p.endpointId, p.constraints, p.maxHeight);
          else if (m.op === 'mute') bridge.mute(p.conferenceId, p.endpointId, p.kind, p.muted);
          else if (m.op === 'lastN') bridge.setLastN(p.lastN);
          else bridge.expire(p.conferenceId, p.endpointId);
          post({ type: 'applied', id: m.id });
          break;
        }
        case 'peer':
          bridge.applyPeerUpdate(m.update);
          break;
        case 'counters':
          post({ type: 'counters', id: m.id, counters: bridge.countersNow().snapshot() });
          break;
        case 'reports':
          post({ type: 'counters', id: m.id, counters: receiverReportBuckets(bridge.conferences.values()) });
          break;
        case 'resources':
          if (m.gc) forceGc();
          post({ type: 'counters', id: m.id, counters: { ...bridge.resourceCounts(), ...activeHandleCounts(), heapUsed: threadHeapUsed(), ...threadMemory(), threads: 1 } });
          break;
        case 'close':
          consumer.close();
          clearInterval(tick);
          sharedCounters.write(bridge.countersNow());
          void bridge.close().then(() => post({ type: 'closed' }));
          break;
      }
    } catch (e) {
      // the control thread validated the request before sending it here; a failure is a bug, not input
      log.error({ err: (e as Error).message, message: m.type }, 'media worker request failed');
      if (m.type === 'op') post({ type: 'applied', id: m.id, error: (e as Error).message });
    }
  });
}

main();
