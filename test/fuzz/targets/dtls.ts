// The DTLS record layer before werift (src/bridge/dtls.ts). `dtls-records`: datagrams of records built by the
// test (any content type, version, epoch, length), mutated, checked against RFC 6347 framing and the bridge's
// policy (only change_cipher_spec, handshake and application data of DTLS 1.0/1.2, never alerts; once connected
// only handshake/application data of epoch 1; a ClientHello is a plaintext handshake record whose body starts
// with type 1). `dtls-endpoint`: a real DtlsEndpoint with the bridge's certificate, fed records made from a
// real client's flights (a handshake run in memory with werift's DtlsClient) and built ones, before and after
// its handshake: feed never throws, nothing escapes as an unhandled rejection, and a connected endpoint stays
// connected with the same SRTP keys whatever a third party sends.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CipherContext, DtlsClient, type Transport } from 'werift';
import { createBridgeCertificate, type BridgeCertificate } from '../../../src/bridge/certificate.ts';
import { acceptableRecords, connectedRecord, DtlsEndpoint, isClientHello } from '../../../src/bridge/dtls.ts';
import { bytes, hexBytes, hexBytesMostlyShort, mutate, mutations, u16, u8, type Mutation } from '../bytes.ts';
import { pureTarget, serverTarget } from '../harness.ts';

export interface RecordSpec {
  type: number;
  version: number;
  epoch: number;
  seq: string;
  body: string;
  /** Added to the length field (0: the true length). */
  lengthDelta: number;
}

export interface DtlsRecordsInput {
  records: RecordSpec[];
  ops: Mutation[];
}

export const recordSpec: fc.Arbitrary<RecordSpec> = fc.record({
  type: fc.oneof({ arbitrary: fc.constantFrom(20, 21, 22, 23), weight: 4 }, { arbitrary: u8, weight: 1 }),
  version: fc.oneof({ arbitrary: fc.constantFrom(0xfefd, 0xfeff), weight: 4 }, { arbitrary: fc.constantFrom(0x0303, 0xfefe, 0xfdfd), weight: 1 }, { arbitrary: u16, weight: 1 }),
  epoch: fc.oneof(fc.constantFrom(0, 1, 2), u16),
  seq: hexBytes(6, 6),
  body: fc.oneof(hexBytesMostlyShort(300), hexBytes(1, 1).map((h) => '01' + h)),
  lengthDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: -20, max: 20 }), weight: 1 }),
});

export function buildRecords(records: RecordSpec[]): Buffer {
  return Buffer.concat(
    records.map((r) => {
      const h = Buffer.alloc(13);
      h[0] = r.type;
      h.writeUInt16BE(r.version, 1);
      h.writeUInt16BE(r.epoch, 3);
      bytes(r.seq).copy(h, 5);
      const body = bytes(r.body);
      h.writeUInt16BE(Math.max(0, Math.min(0xffff, body.length + r.lengthDelta)), 11);
      return Buffer.concat([h, body]);
    }),
  );
}

/** The records of a datagram by RFC 6347 §4.1 framing, null when one is truncated. */
function frame(b: Buffer): { off: number; type: number; version: number; epoch: number; length: number }[] | null {
  const out = [];
  for (let off = 0; off < b.length; ) {
    if (b.length - off < 13) return null;
    const length = b.readUInt16BE(off + 11);
    if (off + 13 + length > b.length) return null;
    out.push({ off, type: b[off]!, version: b.readUInt16BE(off + 1), epoch: b.readUInt16BE(off + 3), length });
    off += 13 + length;
  }
  return out;
}

const ALLOWED_TYPES = new Set([20, 22, 23]);
const ALLOWED_VERSIONS = new Set([0xfeff, 0xfefd]);

function checkDatagram(b: Buffer): void {
  const records = frame(b);
  const want = records !== null && records.length > 0 && records.every((r) => ALLOWED_TYPES.has(r.type) && ALLOWED_VERSIONS.has(r.version));
  assert.equal(acceptableRecords(b), want, `acceptableRecords of ${JSON.stringify(records)}`);
  if (!want) return;
  for (const r of records!) {
    assert.equal(connectedRecord(b, r.off), (r.type === 22 || r.type === 23) && r.epoch === 1, `connectedRecord of ${JSON.stringify(r)}`);
    assert.equal(isClientHello(b, r.off), r.type === 22 && r.epoch === 0 && r.length > 0 && b[r.off + 13] === 1, `isClientHello of ${JSON.stringify(r)}`);
  }
}

export const dtlsRecordsTarget = pureTarget<DtlsRecordsInput>({
  name: 'dtls-records',
  about: 'DTLS record filter before werift: RFC 6347 framing, content types, versions, alerts, epochs, ClientHello',
  input: fc.record({ records: fc.array(recordSpec, { minLength: 0, maxLength: 4 }), ops: mutations }),
  ciRuns: 2000,
  check({ records, ops }) {
    const built = buildRecords(records);
    if (records.length > 0 && records.every((r) => r.lengthDelta === 0)) {
      assert.equal(acceptableRecords(built), records.every((r) => ALLOWED_TYPES.has(r.type) && ALLOWED_VERSIONS.has(r.version)));
    }
    checkDatagram(built);
    if (ops.length > 0) checkDatagram(mutate(built, ops));
  },
});

// ---- a real endpoint ----

/** Datagrams for an endpoint: a real client's flight (by index, mutated) or records built by the test. */
type DatagramSpec = { flight: number; ops: Mutation[] } | { records: RecordSpec[]; ops: Mutation[] };

export interface DtlsEndpointInput {
  /** 'handshake': a fresh endpoint; 'connected': the session's endpoint after a completed handshake. */
  phase: 'handshake' | 'connected';
  datagrams: DatagramSpec[];
}

function memoryTransport(send: (buf: Buffer) => void): Transport {
  return {
    type: 'udp',
    address: { address: '127.0.0.1', family: 'IPv4', port: 5000 },
    closed: false,
    onData: () => {},
    send(buf: Buffer) {
      send(Buffer.from(buf));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

interface Pair {
  endpoint: DtlsEndpoint;
  client: DtlsClient;
  /** Every datagram the client sent during the handshake. */
  flights: Buffer[];
  events: string[];
}

/** A handshake between werift's client and a DtlsEndpoint, datagrams passed in memory. */
async function connectedPair(cert: BridgeCertificate): Promise<Pair> {
  const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey({ hash: 4, signature: 3 }, 23);
  const flights: Buffer[] = [];
  const events: string[] = [];
  let endpoint: DtlsEndpoint | undefined;
  const clientTransport = memoryTransport((buf) => {
    flights.push(buf);
    setImmediate(() => endpoint?.feed(buf));
  });
  endpoint = new DtlsEndpoint(cert, {
    send: (buf) => setImmediate(() => clientTransport.onData(Buffer.from(buf), ['127.0.0.1', 10000])),
    onConnect: () => events.push('connect'),
    onError: (e) => events.push(`error: ${String(e)}`),
    onClose: () => events.push('close'),
  });
  const client = new DtlsClient({ cert: certPem, key: keyPem, signatureHash, transport: clientTransport, srtpProfiles: [1, 7], extendedMasterSecret: true });
  await client.connect();
  const deadline = Date.now() + 10_000;
  while (!endpoint.connected) {
    assert.ok(Date.now() < deadline, `the in-memory DTLS handshake did not complete: ${events.join(', ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { endpoint, client, flights, events };
}

const datagramSpec: fc.Arbitrary<DatagramSpec> = fc.oneof(
  fc.record({ flight: fc.nat({ max: 15 }), ops: mutations }),
  fc.record({ records: fc.array(recordSpec, { minLength: 1, maxLength: 3 }), ops: mutations }),
);

export const dtlsEndpointTarget = serverTarget<DtlsEndpointInput>({
  name: 'dtls-endpoint',
  about: 'a real DtlsEndpoint fed damaged client flights and built records: never throws, a connected session survives',
  input: fc.record({ phase: fc.constantFrom('handshake' as const, 'connected' as const), datagrams: fc.array(datagramSpec, { minLength: 1, maxLength: 6 }) }),
  ciRuns: 60,
  async open() {
    const cert = await createBridgeCertificate();
    const pair = await connectedPair(cert);
    const keys = JSON.stringify(pair.endpoint.srtpKeys());
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => escaped.push(e);
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    const datagram = (d: DatagramSpec): Buffer =>
      mutate('flight' in d ? pair.flights[d.flight % pair.flights.length]! : buildRecords(d.records), d.ops);
    return {
      async check(input) {
        escaped.length = 0;
        const fresh =
          input.phase === 'handshake'
            ? new DtlsEndpoint(cert, { send: () => {}, onConnect: () => {}, onError: () => {}, onClose: () => {} })
            : null;
        const target = fresh ?? pair.endpoint;
        try {
          for (const d of input.datagrams) {
            const dropped = target.feed(datagram(d));
            assert.ok(Number.isInteger(dropped) && dropped >= 0, `feed returned ${dropped}`);
            // let werift's promise chains run before the next datagram
            await new Promise((r) => setImmediate(r));
          }
          await new Promise((r) => setTimeout(r, 1));
        } finally {
          fresh?.close();
        }
        assert.deepEqual(escaped.map(String), [], 'an error escaped from the DTLS endpoint');
        if (input.phase === 'connected') {
          assert.equal(pair.endpoint.connected, true, 'a third party ended the DTLS session');
          assert.deepEqual(pair.events, ['connect'], 'a third party changed the DTLS session');
          assert.equal(JSON.stringify(pair.endpoint.srtpKeys()), keys, 'the SRTP keys changed');
        }
      },
      close() {
        process.off('unhandledRejection', onEscape);
        process.off('uncaughtException', onEscape);
        pair.endpoint.close();
        try {
          pair.client.close();
        } catch {
          // already closed
        }
      },
    };
  },
});
