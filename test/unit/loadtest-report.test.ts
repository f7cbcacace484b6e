import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupErrors } from '../../src/loadtest/report.ts';

describe('load test report: refused joins grouped by reason', () => {
  test("a rate limit's countdown does not split one reason into several lines; the longest wait is shown", () => {
    const limit = (s: number) => `address-limit: too many new meetings from your address (at most 4 a minute); try again in ${s} s`;
    assert.deepEqual(groupErrors([limit(53), limit(52), 'timeout: no answer in 10 s', limit(53), 'timeout: no answer in 10 s']), {
      [limit(53)]: 3,
      'timeout: no answer in 10 s': 2,
    });
  });

  test('different reasons stay apart, and no refusals give no groups', () => {
    assert.deepEqual(groupErrors(['full: the room is full', 'locked: a password is needed']), {
      'full: the room is full': 1,
      'locked: a password is needed': 1,
    });
    assert.deepEqual(groupErrors([]), {});
  });
});
