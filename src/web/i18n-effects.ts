// Strings of the camera and microphone effects (noise suppression; the camera's background: blurred or a picture)
// in the settings, in English and Spanish. i18n.ts merges them into the app's dictionaries.
import type { BundledBackground, PickError } from './media/effects/background-images.ts';

const en = {
  effects: 'Effects',
  noiseSuppression: 'Noise suppression',
  noiseSuppressionHint: 'Removes background noise (keyboard, fans, traffic) from your microphone.',
  background: 'Background',
  backgroundNone: 'No effect',
  backgroundBlur: 'Blur my background',
  backgroundHint: 'Others see you in focus, and behind you your background blurred or the picture you choose.',
  backgroundPicture: (name: BundledBackground): string => ({ dusk: 'Dusk', sea: 'Sea', forest: 'Forest' })[name],
  backgroundCustom: 'My own picture',
  backgroundUpload: 'Upload a picture…',
  backgroundUploadHint: 'Your picture stays in this browser: it is never sent to the server.',
  backgroundPickError: (code: PickError): string =>
    ({
      'not-an-image': 'That file is not a picture this browser can read.',
      'too-large': 'That picture is too large (at most 15 MB).',
      'not-stored': 'This browser could not keep the picture (private browsing, or its storage is full).',
    })[code],
  effectStarting: 'Starting…',
  effectFailed: 'This browser could not start it.',
};

export type EffectsStrings = typeof en;

const es: EffectsStrings = {
  effects: 'Efectos',
  noiseSuppression: 'Supresión de ruido',
  noiseSuppressionHint: 'Quita el ruido de fondo (teclado, ventiladores, tráfico) de tu micrófono.',
  background: 'Fondo',
  backgroundNone: 'Sin efecto',
  backgroundBlur: 'Desenfocar mi fondo',
  backgroundHint: 'Los demás te ven nítido y, detrás de ti, tu fondo desenfocado o la imagen que elijas.',
  backgroundPicture: (name: BundledBackground) => ({ dusk: 'Atardecer', sea: 'Mar', forest: 'Bosque' })[name],
  backgroundCustom: 'Mi propia imagen',
  backgroundUpload: 'Subir una imagen…',
  backgroundUploadHint: 'Tu imagen se queda en este navegador: nunca se envía al servidor.',
  backgroundPickError: (code: PickError) =>
    ({
      'not-an-image': 'Ese archivo no es una imagen que este navegador pueda leer.',
      'too-large': 'Esa imagen es demasiado grande (15 MB como máximo).',
      'not-stored': 'Este navegador no pudo guardar la imagen (navegación privada o almacenamiento lleno).',
    })[code],
  effectStarting: 'Activando…',
  effectFailed: 'Este navegador no pudo activarlo.',
};

export const effectsDictionaries = { en, es };
