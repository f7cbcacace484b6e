// The pictures a virtual background can put behind the person: a few bundled with the app (made by
// scripts/make-backgrounds.sh, served by this server like the rest of the bundle), and one picked by the user from
// their own disk. The user's picture never leaves the browser: it is shrunk to at most 1280x720, kept as a JPEG
// data URL in localStorage (at most MAX_STORED_CHARS: one picture, replaced by the next), and drawn from there.
import dusk from './backgrounds/dusk.jpg';
import forest from './backgrounds/forest.jpg';
import sea from './backgrounds/sea.jpg';

/** The bundled pictures, by id, in the order the settings show them. */
export const BUNDLED_BACKGROUNDS = { dusk, sea, forest } as const;
export type BundledBackground = keyof typeof BUNDLED_BACKGROUNDS;

/** What is behind the person: nothing changed, the camera's own background blurred, or a picture. */
export type Background = 'none' | 'blur' | BundledBackground | 'custom';

export function isBackground(v: unknown): v is Background {
  return v === 'none' || v === 'blur' || v === 'custom' || (typeof v === 'string' && Object.hasOwn(BUNDLED_BACKGROUNDS, v));
}

const CUSTOM_KEY = 'tertulia.background-image';
/** The largest picture file a user may pick (it is shrunk before it is kept). */
export const MAX_PICKED_BYTES = 15 * 1024 * 1024;
/** The largest kept picture: a data URL in localStorage (whose whole quota is about 5 MB per site). */
const MAX_STORED_CHARS = 1_500_000;
const MAX_WIDTH = 1280;
const MAX_HEIGHT = 720;

/** Why a picked picture was refused. */
export type PickError = 'not-an-image' | 'too-large' | 'not-stored';

export class BackgroundImageError extends Error {
  readonly code: PickError;
  constructor(code: PickError, message: string) {
    super(message);
    this.code = code;
  }
}

/** The user's own picture as kept in this browser (a data URL), or null. */
export function storedCustomImage(): string | null {
  try {
    const v = localStorage.getItem(CUSTOM_KEY);
    return v !== null && v.startsWith('data:image/jpeg;base64,') && v.length <= MAX_STORED_CHARS ? v : null;
  } catch {
    return null;
  }
}

/**
 * Keeps `file` as the user's own picture: decoded (a file that is not a picture is refused), shrunk to fit
 * 1280x720, re-encoded as JPEG and stored. Returns the stored data URL.
 */
export async function storeCustomImage(file: Blob): Promise<string> {
  if (file.size > MAX_PICKED_BYTES) throw new BackgroundImageError('too-large', `the picture is larger than ${MAX_PICKED_BYTES} bytes`);
  if (file.type !== '' && !file.type.startsWith('image/')) throw new BackgroundImageError('not-an-image', `not a picture: ${file.type}`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new BackgroundImageError('not-an-image', 'the file could not be decoded as a picture');
  }
  const scale = Math.min(1, MAX_WIDTH / bitmap.width, MAX_HEIGHT / bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new BackgroundImageError('not-stored', 'no 2D canvas');
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  let url = '';
  for (const quality of [0.85, 0.7, 0.5]) {
    url = canvas.toDataURL('image/jpeg', quality);
    if (url.length <= MAX_STORED_CHARS) break;
  }
  if (url.length > MAX_STORED_CHARS) throw new BackgroundImageError('too-large', 'the picture is too large to keep, even shrunk');
  try {
    localStorage.setItem(CUSTOM_KEY, url);
  } catch {
    throw new BackgroundImageError('not-stored', 'this browser refused to keep the picture (private browsing, or storage full)');
  }
  return url;
}

/** The URL to draw or show `background` from: a bundled picture, or the user's own (null when there is none). */
export function backgroundImageUrl(background: Exclude<Background, 'none' | 'blur'>): string | null {
  return background === 'custom' ? storedCustomImage() : BUNDLED_BACKGROUNDS[background];
}

/** The picture of `background`, decoded for drawing. */
export async function loadBackgroundImage(background: Exclude<Background, 'none' | 'blur'>): Promise<ImageBitmap> {
  const url = backgroundImageUrl(background);
  if (url === null) throw new Error('no picture of your own is kept in this browser');
  const img = new Image();
  img.src = url;
  await img.decode();
  return await createImageBitmap(img);
}
