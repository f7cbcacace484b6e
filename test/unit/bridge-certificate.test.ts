// The bridge's certificate made with node:crypto (self-signed.ts) and werift loaded only when a thread needs DTLS
// (dtls.ts loadDtls): the certificate is valid X.509 that Node and werift read; a DTLS endpoint whose first
// datagrams arrive before werift was loaded keeps them and completes the handshake with werift's real client
// once it is. Nothing is faked: werift's DtlsClient and the bridge's DtlsEndpoint talk over an in-memory pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createBridgeCertificate, certificateMatches } from '../../src/bridge/certificate.ts';
import { selfSignedP256 } from '../../src/bridge/self-signed.ts';
import { DtlsEndpoint } from '../../src/bridge/dtls.ts';

test('the self-signed P-256 certificate is valid X.509 v3, signed by its own key, ten years long', () => {
  const now = new Date(Date.UTC(2049, 11, 31, 23, 0, 0));
  const { certPem, keyPem, der } = selfSignedP256(now);
  const x = new X509Certificate(certPem);
  assert.deepEqual(Buffer.from(x.raw), der);
  assert.ok(x.verify(x.publicKey), 'self-signed: its own key verifies it');
  assert.ok(x.checkPrivateKey(createPrivateKey(keyPem)), 'the key is the one certified');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(new Date(x.validFrom).getTime(), Math.floor(now.getTime() / 1000) * 1000);
  // UTCTime before 2050, GeneralizedTime after (RFC 5280): the end date is in 2059
  assert.equal(new Date(x.validTo).getUTCFullYear(), 2059);
  assert.match(x.subject, /O=Internet Widgits Pty Ltd/);
  assert.notEqual(selfSignedP256().certPem, certPem, 'a new key and serial each time');
});

test("a DTLS endpoint fed (a ClientHello and its retransmissions) before werift is loaded completes the handshake with werift's client", { timeout: 60_000 }, async () => {
  const server = await createBridgeCertificate();
  const { CipherContext, DtlsClient } = await import('werift');
  const client = await CipherContext.createSelfSignedCertificateWithKey({ hash: 4, signature: 3 }, 23);
  let connected = 0;
  const errors: unknown[] = [];
  const toClient: Buffer[] = [];
  let clientTransport: { onData: (b: Buffer) => void } | null = null;
  // loadDtls() was never called in this process: the endpoint's first datagram waits for werift to load
  const endpoint = new DtlsEndpoint(server, {
    send: (buf) => {
      const copy = Buffer.from(buf);
      if (clientTransport) setImmediate(() => clientTransport!.onData(copy));
      else toClient.push(copy);
    },
    onConnect: () => connected++,
    onError: (e) => errors.push(e),
    onClose: () => {},
  });
  let sent = 0;
  const transport = {
    type: 'udp' as const,
    address: { address: '127.0.0.1', family: 'IPv4', port: 1 },
    closed: false,
    onData: (_b: Buffer) => {},
    send: (buf: Buffer) => {
      const copy = Buffer.from(buf);
      if (sent++ === 0) {
        // the first ClientHello and two retransmissions of it (new record sequence numbers), all before werift
        // is loaded: what a browser sends while a busy bridge loads it
        for (let k = 1; k <= 2; k++) {
          const again = Buffer.from(copy);
          again.writeUIntBE(copy.readUIntBE(5, 6) + k, 5, 6);
          endpoint.feed(again);
        }
      }
      setImmediate(() => endpoint.feed(copy));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  clientTransport = transport;
  const dtls = new DtlsClient({
    cert: client.certPem,
    key: client.keyPem,
    signatureHash: client.signatureHash,
    transport: transport as never,
    srtpProfiles: [1],
    extendedMasterSecret: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake timed out')), 30_000);
    dtls.onConnect.once(() => {
      clearTimeout(timer);
      resolve();
    });
    dtls.connect().catch(reject);
  });
  for (let i = 0; i < 100 && connected === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(connected, 1, 'the bridge side completed the handshake');
  assert.deepEqual(errors, []);
  assert.ok(certificateMatches(endpoint.remoteCertificate!, { algorithm: 'sha-256', value: new X509Certificate(client.certPem).fingerprint256 }));
  const keys = endpoint.srtpKeys();
  assert.equal(keys?.profile, 'AES_CM_128_HMAC_SHA1_80');
  const k = dtls.extractSessionKeys(16, 14);
  assert.deepEqual(keys!.remoteKey, Buffer.from(k.localKey), 'both ends derived the same keys');
  endpoint.close();
  dtls.close();
});
