// Strings of the camera and microphone effects (noise suppression, background blur) in the settings, in English
// and Spanish. i18n.ts merges them into the app's dictionaries.

const en = {
  effects: 'Effects',
  noiseSuppression: 'Noise suppression',
  noiseSuppressionHint: 'Removes background noise (keyboard, fans, traffic) from your microphone.',
  backgroundBlur: 'Blur my background',
  backgroundBlurHint: 'Others see you in focus and what is behind you blurred.',
  effectStarting: 'Starting…',
  effectFailed: 'This browser could not start it.',
};

export type EffectsStrings = typeof en;

const es: EffectsStrings = {
  effects: 'Efectos',
  noiseSuppression: 'Supresión de ruido',
  noiseSuppressionHint: 'Quita el ruido de fondo (teclado, ventiladores, tráfico) de tu micrófono.',
  backgroundBlur: 'Desenfocar mi fondo',
  backgroundBlurHint: 'Los demás te ven nítido y lo que hay detrás de ti, desenfocado.',
  effectStarting: 'Activando…',
  effectFailed: 'Este navegador no pudo activarlo.',
};

export const effectsDictionaries = { en, es };
