// The SIP gateway's bounded log lines (src/sip/throttled-log.ts): per window, at most `perAddress` lines for one
// address and `total` in all; what is held back is said in one summary line at the window's end (even when nothing
// else comes), and the next window logs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ThrottledLog } from '../../src/sip/throttled-log.ts';

function capture() {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'info', base: undefined }, sink), lines };
}

test('one line per address per window, a cap in all, the rest summed up at the window end', async () => {
  const { log, lines } = capture();
  const t = new ThrottledLog(log, { level: 'warn', perAddress: 1, total: 3, what: 'malformed SIP messages', windowMs: 300 });
  // a flood from one address: one line
  for (let i = 0; i < 1000; i++) t.note('192.0.2.1', { reason: 'malformed start line' }, 'malformed SIP message dropped');
  // many addresses (spoofed UDP sources): the total cap holds
  for (let i = 0; i < 100; i++) t.note(`198.51.100.${i}`, { reason: 'no Via header' }, 'malformed SIP message dropped');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(lines.length, 3, JSON.stringify(lines));
  assert.deepEqual(lines[0], { level: 40, time: lines[0].time, reason: 'malformed start line', from: '192.0.2.1', msg: 'malformed SIP message dropped' });
  assert.deepEqual(lines.slice(1).map((l) => l.from), ['198.51.100.0', '198.51.100.1']);
  // the summary comes by itself once the window is over
  for (let i = 0; i < 50 && lines.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(lines.length, 4);
  assert.equal(lines[3].notLogged, 1000 - 1 + 100 - 2);
  assert.match(lines[3].msg, /^malformed SIP messages: 1097 more not logged one by one/);
  // a new window: that address gets a line again
  assert.equal(t.note('192.0.2.1', {}, 'again'), true);
  assert.equal(t.note('192.0.2.1', {}, 'again'), false);
  t.close();
  assert.equal(lines.length, 6, 'close says what was held back');
  assert.equal(lines[5].notLogged, 1);
});

test('several lines per address when allowed; close sums up what was held back', () => {
  const { log, lines } = capture();
  const t = new ThrottledLog(log, { level: 'info', perAddress: 3, total: 100, what: 'refused SIP calls' });
  for (let i = 0; i < 3; i++) assert.equal(t.note('192.0.2.7', { status: 404 }, 'call refused'), true);
  assert.equal(t.note('192.0.2.7', { status: 404 }, 'call refused'), false);
  assert.equal(t.note('192.0.2.8', { status: 404 }, 'call refused'), true);
  t.close();
  assert.equal(lines.filter((l) => l.msg === 'call refused' && l.level === 30).length, 4);
  assert.equal(lines.length, 5);
  assert.equal(lines[4].notLogged, 1);
});
