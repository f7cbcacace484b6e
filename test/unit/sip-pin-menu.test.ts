// The PIN voice menu (src/sip/pin-menu.ts) with the real prompts, a phone that records every frame it is given
// and takes keys as a caller presses them, and the real lookup: signal's PIN store answering signal.pin-lookup
// on a bus. Right PIN, wrong then right, three wrong, silence, '*' and a pause, a hang-up mid-menu.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { createLogger } from '../../src/log.ts';
import { serveDialIn } from '../../src/signal/dial-in-bus.ts';
import { DialInPins } from '../../src/signal/dial-in-pins.ts';
import { FRAME_MS, type Digit, type PhoneAudio } from '../../src/sip/call-audio.ts';
import { runPinMenu, type PinMenuOptions } from '../../src/sip/pin-menu.ts';
import { pinLookupOverBus } from '../../src/sip/pin-lookup.ts';
import { PROMPT_NAMES, type PromptName } from '../../src/sip/prompt-texts.ts';
import { loadPrompts, type PromptSet } from '../../src/sip/prompts.ts';

/** A phone that keeps what it was played (with the time) and lets the test press keys. */
class RecordingPhone implements PhoneAudio {
  readonly rate = 48_000;
  onVoice: ((frame: Int16Array) => void) | undefined;
  onDigit: ((digit: Digit) => void) | undefined;
  readonly played: { frame: Int16Array; at: number }[] = [];
  play(frame: Int16Array): void {
    this.played.push({ frame, at: performance.now() });
  }
  close(): void {}
  press(keys: string): void {
    for (const k of keys) this.onDigit?.(k as Digit);
  }
}

let prompts: PromptSet;
/** frame -> which prompt, and where in it */
const origin = new Map<Int16Array, { name: PromptName; index: number }>();
const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-pin-menu-'));
const bus = new MemoryBus();
const pins = new DialInPins({ dataDir: dir, log: createLogger('silent') });
const unserve = serveDialIn(bus, pins);
const lookups: string[] = [];
const lookupOverBus = pinLookupOverBus(bus);
const lookup = (pin: string) => {
  lookups.push(pin);
  return lookupOverBus(pin);
};
let physicsPin: string;

before(() => {
  prompts = loadPrompts('en');
  for (const name of PROMPT_NAMES) prompts[name].forEach((frame, index) => origin.set(frame, { name, index }));
  physicsPin = pins.pinFor('Physics');
});
after(() => {
  unserve();
  rmSync(dir, { recursive: true, force: true });
});

/** The prompts played, in order, each with how many of its frames were played. */
function heard(phone: RecordingPhone): { name: PromptName; frames: number }[] {
  const out: { name: PromptName; frames: number }[] = [];
  for (const { frame } of phone.played) {
    const o = origin.get(frame);
    assert.ok(o, 'the phone was played a frame of no prompt');
    if (o.index === 0) out.push({ name: o.name, frames: 0 });
    const last = out[out.length - 1]!;
    assert.equal(last.name, o.name);
    assert.equal(o.index, last.frames, 'frames of a prompt are played in order');
    last.frames++;
  }
  return out;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves when the phone starts hearing `name` for the `nth` time. */
function startsHearing(phone: RecordingPhone, name: PromptName, nth = 1): Promise<void> {
  return waitFor(`prompt ${name} #${nth}`, () => heard(phone).filter((h) => h.name === name).length >= nth);
}

function menu(phone: RecordingPhone, extra: Partial<PinMenuOptions> = {}) {
  lookups.length = 0;
  return runPinMenu({ phone, prompts, lookup, ...extra });
}

const full = (name: PromptName) => prompts[name].length;

test('the right PIN: the first key stops the prompt, "#" looks it up, welcome is played whole', async () => {
  const phone = new RecordingPhone();
  const result = menu(phone);
  await startsHearing(phone, 'enter-pin');
  phone.press(`${physicsPin}#`);
  assert.deepEqual(await result, { outcome: 'joined', room: 'physics' });
  assert.deepEqual(lookups, [physicsPin]);
  const h = heard(phone);
  assert.deepEqual(h.map((x) => x.name), ['enter-pin', 'welcome']);
  assert.ok(h[0]!.frames < full('enter-pin'), 'the prompt stopped at the first key');
  assert.equal(h[1]!.frames, full('welcome'));
  assert.equal(phone.onDigit, undefined, 'the menu gives the keys back');
  // paced like speech: the whole welcome took about as long as it lasts (never faster; catching up sends at most 5 at once)
  const welcome = phone.played.filter((p) => origin.get(p.frame)!.name === 'welcome');
  assert.ok(welcome.at(-1)!.at - welcome[0]!.at >= (full('welcome') - 1 - 5) * FRAME_MS);
});

test('a wrong PIN is said so, and the right one then joins', async () => {
  const phone = new RecordingPhone();
  const result = menu(phone);
  await startsHearing(phone, 'enter-pin');
  phone.press('111#');
  await startsHearing(phone, 'pin-retry');
  phone.press(`${physicsPin}#`);
  assert.deepEqual(await result, { outcome: 'joined', room: 'physics' });
  assert.deepEqual(lookups, ['111', physicsPin]);
  assert.deepEqual(heard(phone).map((x) => x.name), ['enter-pin', 'pin-retry', 'welcome']);
});

test('three wrong PINs: "not valid, goodbye", played whole, and hang up', async () => {
  const phone = new RecordingPhone();
  const result = menu(phone);
  await startsHearing(phone, 'enter-pin');
  phone.press('1#');
  await startsHearing(phone, 'pin-retry');
  phone.press('22#');
  await startsHearing(phone, 'pin-retry', 2);
  phone.press('#'); // nothing typed counts as a wrong PIN, and is not looked up
  assert.deepEqual(await result, { outcome: 'hang-up', reason: 'wrong-pin' });
  assert.deepEqual(lookups, ['1', '22']);
  const h = heard(phone);
  assert.deepEqual(h.map((x) => x.name), ['enter-pin', 'pin-retry', 'pin-retry', 'pin-refused']);
  assert.equal(h[3]!.frames, full('pin-refused'));
});

test('no key at all: the prompt again, then goodbye and hang up', async () => {
  const phone = new RecordingPhone();
  assert.deepEqual(await menu(phone, { digitTimeoutMs: 300 }), { outcome: 'hang-up', reason: 'no-input' });
  assert.deepEqual(lookups, []);
  assert.deepEqual(heard(phone), [
    { name: 'enter-pin', frames: full('enter-pin') },
    { name: 'enter-pin', frames: full('enter-pin') },
    { name: 'goodbye', frames: full('goodbye') },
  ]);
});

test('"*" starts the entry over, and a pause after some keys enters them', async () => {
  const phone = new RecordingPhone();
  const result = menu(phone, { digitTimeoutMs: 500 });
  await startsHearing(phone, 'enter-pin');
  phone.press(`999*${physicsPin}`); // no '#': the pause enters it
  assert.deepEqual(await result, { outcome: 'joined', room: 'physics' });
  assert.deepEqual(lookups, [physicsPin]);
});

test('the caller hangs up mid-prompt: the menu stops at once', async () => {
  const phone = new RecordingPhone();
  const ac = new AbortController();
  const result = menu(phone, { signal: ac.signal });
  await startsHearing(phone, 'enter-pin');
  ac.abort();
  assert.deepEqual(await result, { outcome: 'hang-up', reason: 'cancelled' });
  const count = phone.played.length;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(phone.played.length, count, 'nothing is played after the hang-up');
  assert.ok(count < full('enter-pin'));
});

test('signal unreachable: goodbye and hang up', async () => {
  const phone = new RecordingPhone();
  const result = runPinMenu({ phone, prompts: loadPrompts('es'), lookup: pinLookupOverBus(new MemoryBus()) });
  await waitFor('the Spanish prompt', () => phone.played.length > 0);
  phone.press('123#');
  assert.deepEqual(await result, { outcome: 'hang-up', reason: 'lookup-failed' });
  assert.equal(phone.played.at(-1)!.frame, loadPrompts('es').goodbye.at(-1));
});
