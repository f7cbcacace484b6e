// A media transport (src/bridge/udp-transport.ts, native receive and send) in a worker thread of its own, bound to
// 127.0.0.1: for the tests of what happens to the native module's handles when a thread ends without closing them.
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker; `onMedia` is the body of the transport's media handler, with `t` the transport and `b` the
 * datagram. Resolves to the worker and the transport's port.
 */
export async function startTransportWorker(onMedia = ''): Promise<{ worker: Worker; port: number }> {
  const url = new URL('../../src/bridge/udp-transport.ts', import.meta.url).href;
  const counters = new URL('../../src/bridge/counters.ts', import.meta.url).href;
  const code = `
    const { UdpTransport } = await import(${JSON.stringify(url)});
    const { BridgeCounters } = await import(${JSON.stringify(counters)});
    const { parentPort } = await import('node:worker_threads');
    let t;
    t = new UdpTransport({ onMedia(b) { ${onMedia} }, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true });
    parentPort.postMessage(await t.bind('127.0.0.1', 0));
  `;
  const worker = new Worker(code, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, port };
}
