// The bridge with two media workers (mediaWorkers: 2) must behave exactly as with one thread: the
// bridge-media tests (DTLS-SRTP, forwarding, PLI, NACK from the buffer, mute, SR, REMB, GCM, DTLS garbage, fingerprint check)
// run again against it: once as placed (one conference: every fake browser on one worker, whichever worker the
// kernel hands their checks to), once with the endpoints alternating over the workers (mediaWorkerSpan 1), so
// that forwarding, NACKs and RTCP cross between workers. The same test also runs with the bridge's TypeScript
// send path (nativeSend off: one dgram send per datagram), with dgram reading the native socket (nativeReceive
// off, the fallback: one read per datagram; bridge-media itself runs the module's recvmmsg batches, the default) and with SRTP protected by Node's crypto instead of
// native/srtp.c (TERTULIA_NATIVE_SRTP=0), which is what runs where the native modules are not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runNode } from '../helpers/node-child.ts';

/** Runs bridge-media.test.ts in a child with `env` added; it must pass all three of its tests. */
async function bridgeMediaWith(env: Record<string, string>): Promise<void> {
  const file = path.join(import.meta.dirname, 'bridge-media.test.ts');
  // without NODE_TEST_CONTEXT: a test runner started from a test would otherwise refuse to run files
  const { code, output } = await runNode(['--test', '--test-reporter=spec', file], {
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env },
  });
  assert.equal(code, 0, output);
  assert.match(output, /pass 3/);
}

test('bridge with 2 media workers passes the bridge-media test', { timeout: 180_000 }, async () => {
  await bridgeMediaWith({ TEST_MEDIA_WORKERS: '2' });
});

test("bridge with 2 media workers, a conference's endpoints spread over both, passes the bridge-media test", { timeout: 180_000 }, async () => {
  await bridgeMediaWith({ TEST_MEDIA_WORKERS: '2', TEST_WORKER_SPAN: '1' });
});

test("bridge sending with Node's dgram (no native batches) passes the bridge-media test", { timeout: 180_000 }, async () => {
  await bridgeMediaWith({ TEST_NATIVE_SEND: '0' });
});

test('bridge sending natively but reading with dgram (nativeReceive off) passes the bridge-media test', { timeout: 180_000 }, async () => {
  await bridgeMediaWith({ TEST_NATIVE_RECEIVE: '0', TEST_MEDIA_WORKERS: '2' });
});

test("bridge protecting SRTP with Node's crypto (TERTULIA_NATIVE_SRTP=0, the fallback of native/srtp.c) passes the bridge-media test", { timeout: 180_000 }, async () => {
  await bridgeMediaWith({ TERTULIA_NATIVE_SRTP: '0', TEST_MEDIA_WORKERS: '2' });
});
