// Readiness (/readyz) of a process that runs a bridge: ready while its bridge has room, not while it drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { HealthWatch } from '../../src/metrics/health.ts';

test('a bridge process is ready while its bridge has room, and not once it drains (SIGTERM)', () => {
  const local = { bridgeId: 'b1', draining: false, load: () => ({ endpoints: 1, maxEndpoints: 10 }) };
  const health = new HealthWatch(new MemoryBus(), ['bridge'], local);
  try {
    assert.deepEqual(health.report().problems, []);
    assert.equal(health.report().ready, true);
    local.draining = true;
    const r = health.report();
    assert.equal(r.ready, false);
    assert.deepEqual(r.problems, ['this bridge is stopping (draining after SIGTERM)']);
  } finally {
    health.close();
  }
});
