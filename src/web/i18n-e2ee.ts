// Strings of end-to-end encryption (the moderators' switch, the indicator everyone sees, the notices for a browser
// that cannot encrypt), in English and Spanish. i18n.ts merges them into the app's dictionaries.

const en = {
  enableE2ee: 'Enable end-to-end encryption',
  e2eeHint: 'Audio and video are encrypted in the browsers; the server cannot see or hear them. Recording, live streaming and phone callers are not possible meanwhile.',
  e2eeOn: 'End-to-end encrypted',
  e2eeOnBy: (name: string) => `End-to-end encrypted (turned on by ${name})`,
  e2eeUnsupportedSelf: 'This meeting is end-to-end encrypted, but your browser cannot encrypt media: the others neither see nor hear you, and you neither see nor hear them. Join with a recent Chrome, Edge, Firefox or Safari.',
  e2eeUnsupportedOthers: (names: string) => `Not encrypted: the browser of ${names} cannot encrypt media, so you neither see nor hear them.`,
  errorE2eeOn: 'Not possible while the meeting is end-to-end encrypted: the server cannot decrypt its media.',
  errorE2eeTooMany: 'End-to-end encryption is for meetings of at most 20 participants.',
  errorE2eeRefused: 'End-to-end encryption cannot be turned on now',
};

export type E2eeStrings = typeof en;

const es: E2eeStrings = {
  enableE2ee: 'Activar el cifrado de extremo a extremo',
  e2eeHint: 'El audio y el vídeo se cifran en los navegadores; el servidor no puede verlos ni oírlos. Mientras tanto no se puede grabar, emitir en directo ni recibir llamadas telefónicas.',
  e2eeOn: 'Cifrado de extremo a extremo',
  e2eeOnBy: (name: string) => `Cifrado de extremo a extremo (activado por ${name})`,
  e2eeUnsupportedSelf: 'Esta reunión está cifrada de extremo a extremo, pero tu navegador no puede cifrar: los demás no te ven ni te oyen, y tú no los ves ni los oyes. Entra con un Chrome, Edge, Firefox o Safari reciente.',
  e2eeUnsupportedOthers: (names: string) => `Sin cifrar: el navegador de ${names} no puede cifrar, así que no los ves ni los oyes.`,
  errorE2eeOn: 'No es posible mientras la reunión está cifrada de extremo a extremo: el servidor no puede descifrar su contenido.',
  errorE2eeTooMany: 'El cifrado de extremo a extremo es para reuniones de 20 participantes como mucho.',
  errorE2eeRefused: 'Ahora no se puede activar el cifrado de extremo a extremo',
};

export const e2eeDictionaries = { en, es };
