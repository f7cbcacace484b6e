// A participant's region as signal gives it to focus (src/signal/region.ts): the load balancer's header when
// set and well-formed, else the server's own region, else none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { participantRegion } from '../../src/signal/region.ts';

test('the header first (any case of its name), else the server’s region; a malformed header is ignored', () => {
  const settings = { region: 'eu', regionHeader: 'X-Tertulia-Region' };
  assert.equal(participantRegion({ 'x-tertulia-region': 'us' }, settings), 'us');
  assert.equal(participantRegion({ 'x-tertulia-region': ['asia', 'us'] }, settings), 'asia');
  assert.equal(participantRegion({}, settings), 'eu');
  assert.equal(participantRegion({ 'x-tertulia-region': 'us;drop table' }, settings), 'eu');
  assert.equal(participantRegion({ 'x-tertulia-region': 'x'.repeat(65) }, settings), 'eu');
  assert.equal(participantRegion({ 'x-tertulia-region': 'us' }, { region: '', regionHeader: '' }), undefined, 'no header setting: the header is not read');
  assert.equal(participantRegion({}, { region: '', regionHeader: 'X-Tertulia-Region' }), undefined);
});
