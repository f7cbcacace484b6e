// The numeric PIN of each room, for callers who dial in (issue 15). A PIN is made the first time a room's PIN is
// asked for (the invite dialog asks) and kept in `<dataDir>/sip-pins.json` (mode 0600, written whole to a
// temporary file and renamed, a second after the last change), so a room keeps its PIN across restarts.
// Invariants: one PIN per room key and one room key per PIN; 9 digits, never a leading 0; at most `cap`
// entries: past it the least recently used are dropped (a lookup either way counts as a use). A file that
// cannot be read as a whole is set aside (`.corrupt`) and the entries of it that can be read are kept.
import { randomInt } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { PIN_DIGITS } from '../protocol/dial-in-messages.ts';
import { roomKey } from '../protocol/signal-messages.ts';

export const PINS_FILE = 'sip-pins.json';
/** Rooms that keep a PIN at most (about 40 bytes each in the file). */
export const DEFAULT_PIN_CAP = 100_000;
const SAVE_DELAY_MS = 1000;

/** The file: `[roomKey, pin]` pairs, the least recently used first. */
const fileSchema = z.object({ version: z.literal(1), pins: z.array(z.unknown()) });
const entrySchema = z.tuple([z.string().min(1).max(128), z.string().regex(new RegExp(`^[1-9]\\d{${PIN_DIGITS - 1}}$`))]);

export class DialInPins {
  readonly file: string;
  private readonly cap: number;
  private readonly log: Logger;
  /** room key -> PIN, in order of use (the least recent first: Map keeps insertion order). */
  private readonly byRoom = new Map<string, string>();
  private readonly byPin = new Map<string, string>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(opts: { dataDir: string; log: Logger; cap?: number }) {
    this.file = path.join(opts.dataDir, PINS_FILE);
    this.cap = opts.cap ?? DEFAULT_PIN_CAP;
    this.log = opts.log;
    this.load();
  }

  get size(): number {
    return this.byRoom.size;
  }

  /** The PIN of `room` (a room name, any case), made now when it has none. */
  pinFor(room: string): string {
    const key = roomKey(room);
    let pin = this.byRoom.get(key);
    if (pin === undefined) {
      do pin = String(randomInt(10 ** (PIN_DIGITS - 1), 10 ** PIN_DIGITS));
      while (this.byPin.has(pin));
      this.byPin.set(pin, key);
      this.dropBeyondCap(1);
    }
    this.use(key, pin);
    return pin;
  }

  /** True when `room` has a PIN already (nothing is made). */
  has(room: string): boolean {
    return this.byRoom.has(roomKey(room));
  }

  /** The room key whose PIN is `pin`, or undefined. */
  roomFor(pin: string): string | undefined {
    const key = this.byPin.get(pin);
    if (key !== undefined) this.use(key, pin);
    return key;
  }

  /** Writes what changed now (at close). */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }

  private use(key: string, pin: string): void {
    this.byRoom.delete(key);
    this.byRoom.set(key, pin);
    this.changed();
  }

  /** Makes room for `room` more entries by dropping the least recently used. */
  private dropBeyondCap(room: number): void {
    while (this.byRoom.size + room > this.cap) {
      const [oldKey, oldPin] = this.byRoom.entries().next().value!;
      this.byRoom.delete(oldKey);
      this.byPin.delete(oldPin);
    }
  }

  private changed(): void {
    this.dirty = true;
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref?.();
  }

  private save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const body = JSON.stringify({ version: 1, pins: [...this.byRoom] });
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFile(tmp, body, { mode: 0o600 });
        await chmod(tmp, 0o600); // the umask may have removed bits; make the mode exact
        await rename(tmp, this.file);
      } catch (e) {
        this.dirty = true;
        this.log.error({ err: (e as Error).message, file: this.file }, 'could not save the dial-in PINs');
      }
    });
    return this.saving;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    let entries: unknown[] = [];
    let whole = true;
    try {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (parsed.success) entries = parsed.data.pins;
      else whole = false;
    } catch {
      whole = false;
    }
    let skipped = 0;
    for (const raw of entries) {
      const e = entrySchema.safeParse(raw);
      // a room name that is not its own key, or a PIN or room seen already, is not ours: skip it
      if (!e.success || roomKey(e.data[0]) !== e.data[0] || this.byPin.has(e.data[1]) || this.byRoom.has(e.data[0])) {
        skipped++;
        continue;
      }
      this.byRoom.set(e.data[0], e.data[1]);
      this.byPin.set(e.data[1], e.data[0]);
    }
    this.dropBeyondCap(0);
    if (!whole || skipped > 0) {
      const aside = `${this.file}.corrupt`;
      try {
        renameSync(this.file, aside);
      } catch {
        // leave it; the next save replaces it
      }
      this.log.warn({ file: this.file, keptAs: aside, kept: this.byRoom.size, skipped }, 'the dial-in PIN file was damaged: kept what could be read, the file set aside');
      this.changed();
    }
  }
}
