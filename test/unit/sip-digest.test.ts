// Digest answers (src/sip/digest.ts) against the worked examples of RFC 2617 (MD5) and RFC 7616 (MD5 and
// SHA-256), the choice among several challenges, and what is not answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestClient, pickChallenge, RequestAuth } from '../../src/sip/digest.ts';
import { SipHeaders } from '../../src/sip/message.ts';

const responseOf = (v: string) => /response="([0-9a-f]+)"/.exec(v)?.[1];

test('RFC 2617 3.5: MD5, qop=auth', () => {
  const c = pickChallenge(['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'], false)!;
  assert.equal(c.qop, 'auth');
  const { name, value } = new DigestClient({ user: 'Mufasa', password: 'Circle Of Life' }).authorize(c, 'GET', '/dir/index.html', undefined, '0a4f113b');
  assert.equal(name, 'authorization');
  assert.equal(responseOf(value), '6629fae49393a05397450978507c4ef1');
  assert.match(value, /nc=00000001/);
  assert.match(value, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
});

test('RFC 7616 3.9.1: SHA-256 preferred over MD5, both right', () => {
  const common = 'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const md5 = pickChallenge([`Digest ${common}, algorithm=MD5`], true)!;
  const both = pickChallenge([`Digest ${common}, algorithm=MD5`, `Digest ${common}, algorithm=SHA-256`], true)!;
  assert.equal(both.algorithm, 'SHA-256');
  const client = new DigestClient({ user: 'Mufasa', password: 'Circle of Life' });
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  assert.equal(responseOf(client.authorize(md5, 'GET', '/dir/index.html', undefined, cnonce).value), '8ca523f5e9506fed4657c9700eebdbec');
  // a fresh client: nc counts per nonce, and the example is the nonce's first use
  const sha = new DigestClient({ user: 'Mufasa', password: 'Circle of Life' }).authorize(both, 'GET', '/dir/index.html', undefined, cnonce);
  assert.equal(sha.name, 'proxy-authorization');
  assert.equal(responseOf(sha.value), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('challenges not answered: not Digest, an unknown algorithm, no nonce, only an unknown qop', () => {
  assert.equal(pickChallenge(['Basic realm="x"'], false), null);
  assert.equal(pickChallenge(['Digest realm="x", nonce="n", algorithm=SHA-512-256-sess'], false), null);
  assert.equal(pickChallenge(['Digest realm="x"'], false), null);
  assert.equal(pickChallenge(['Digest realm="x", nonce="n", qop="auth-conf"'], false), null);
});

test('a request answers each challenge once, again only when the nonce went stale', () => {
  const auth = new RequestAuth(new DigestClient({ user: 'u', password: 'p' }));
  const res = (status: number, v: string) => ({ status, headers: new SipHeaders().add(status === 401 ? 'www-authenticate' : 'proxy-authenticate', v) });
  assert.equal(auth.accept(res(407, 'Digest realm="r", nonce="a"')), true);
  assert.equal(auth.accept(res(401, 'Digest realm="r", nonce="b"')), true);
  assert.equal(auth.accept(res(401, 'Digest realm="r", nonce="c"')), false, 'wrong password: refused');
  assert.equal(auth.accept(res(401, 'Digest realm="r", nonce="d", stale=true')), true);
  assert.equal(auth.accept(res(401, 'Digest realm="r", nonce="e", stale=true')), false);
  const req = { kind: 'request' as const, method: 'INVITE', uri: 'sip:1@x', headers: new SipHeaders(), body: Buffer.alloc(0) };
  auth.apply(req);
  assert.match(req.headers.get('authorization')!, /nonce="d"/);
  assert.match(req.headers.get('proxy-authorization')!, /nonce="a"/);
  assert.equal(new RequestAuth(null).accept(res(401, 'Digest realm="r", nonce="a"')), false, 'no credentials: nothing to answer with');
});

test('the password cannot reach a log: a client shows nothing of it as JSON or inspected', async () => {
  const { inspect } = await import('node:util');
  const client = new DigestClient({ user: 'gw', password: 'n0t-in-logs' });
  assert.ok(!JSON.stringify({ client }).includes('n0t-in-logs'));
  assert.ok(!inspect(client, { depth: 10 }).includes('n0t-in-logs'));
});
