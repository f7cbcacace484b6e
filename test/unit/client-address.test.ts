// Rate-limit keys: an IPv4 client by its address, an IPv6 client by its /64 (it can change the rest at will).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitKey } from '../../src/signal/client-address.ts';

test('IPv4, also IPv4-mapped, counts by address', () => {
  assert.equal(rateLimitKey('192.168.1.20'), '192.168.1.20');
  assert.equal(rateLimitKey('::ffff:192.168.1.20'), '192.168.1.20');
  assert.equal(rateLimitKey('::FFFF:10.0.0.1'), '10.0.0.1');
});

test('IPv6 counts by its /64, however it is written', () => {
  const key = '2001:db8:0:1::/64';
  for (const a of ['2001:db8:0:1::1', '2001:db8::1:0:0:0:2', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:DB8:0:1:a:b:c:d', 'fe80::1%eth0'.replace('fe80::1', '2001:db8:0:1::9')]) {
    assert.equal(rateLimitKey(a), key, a);
  }
  assert.notEqual(rateLimitKey('2001:db8:0:2::1'), key, 'another /64');
  assert.equal(rateLimitKey('::1'), '0:0:0:0::/64');
  assert.equal(rateLimitKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
});

test('nothing, or not an address, is a key of its own', () => {
  assert.equal(rateLimitKey(undefined), 'unknown');
  assert.equal(rateLimitKey(''), 'unknown');
  assert.equal(rateLimitKey('not-an-address'), 'not-an-address');
});
