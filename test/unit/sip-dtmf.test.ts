// RFC 4733 telephone-events to keys (src/sip/media/dtmf.ts): one key per press whatever the phone repeats (the
// updates while held, the end sent three times), the same key twice is two presses, a press whose ends were all
// lost still counts when the next begins, events that are no key and short payloads are ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Digit } from '../../src/sip/call-audio.ts';
import { DtmfReceiver, eventDigit, writeTelephoneEvent } from '../../src/sip/media/dtmf.ts';

function event(code: number, end: boolean, duration: number): Uint8Array {
  const p = new Uint8Array(4);
  writeTelephoneEvent(p, 0, code, end, 10, duration);
  return p;
}

/** A press as phones send it: `updates` packets, then `ends` end packets, all with the event's timestamp. */
function press(rx: DtmfReceiver, code: number, timestamp: number, updates = 3, ends = 3): void {
  for (let i = 1; i <= updates; i++) rx.push(event(code, false, i * 160), timestamp);
  for (let i = 0; i < ends; i++) rx.push(event(code, true, (updates + 1) * 160), timestamp);
}

test('one key per press; the same key pressed twice gives it twice', () => {
  const keys: Digit[] = [];
  const rx = new DtmfReceiver((d) => keys.push(d));
  press(rx, 1, 1000);
  press(rx, 1, 2000);
  press(rx, 10, 3000);
  press(rx, 11, 4000, 0, 1); // only an end packet
  press(rx, 15, 5000);
  assert.deepEqual(keys, ['1', '1', '*', '#', 'D']);
  assert.equal(rx.counters.digits, 5);
});

test('a press whose end packets were all lost counts once the next press begins', () => {
  const keys: Digit[] = [];
  const rx = new DtmfReceiver((d) => keys.push(d));
  press(rx, 4, 1000, 5, 0);
  assert.deepEqual(keys, []);
  press(rx, 2, 2000);
  assert.deepEqual(keys, ['4', '2']);
  // a late end of the first press, after the second: not counted again
  rx.push(event(2, true, 800), 2000);
  assert.deepEqual(keys, ['4', '2']);
});

test('events that are no key (flash, tones), short payloads and a new stream', () => {
  const keys: Digit[] = [];
  const rx = new DtmfReceiver((d) => keys.push(d));
  press(rx, 16, 1000); // flash
  press(rx, 70, 2000); // a line tone
  rx.push(new Uint8Array(3), 3000);
  rx.push(new Uint8Array(0), 3000);
  assert.deepEqual(keys, []);
  assert.equal(rx.counters.malformed, 2);
  assert.equal(rx.counters.ignored, 2);
  press(rx, 7, 4000, 2, 0);
  rx.reset(); // a new SSRC: the unended press is forgotten
  press(rx, 8, 4000);
  assert.deepEqual(keys, ['8']);
  assert.equal(eventDigit(12), 'A');
  assert.equal(eventDigit(200), null);
});
