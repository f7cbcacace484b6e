// What the phone voice menu says, in each language: the build (scripts/build-prompts.ts) speaks these texts
// with espeak-ng into dist/sip-prompts/<language>/<name>.wav; prompts.ts reads those files.

export const PROMPT_LANGUAGES = ['en', 'es'] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];

export const PROMPT_NAMES = ['enter-pin', 'pin-retry', 'pin-refused', 'goodbye', 'welcome', 'muted', 'unmuted'] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

/** espeak-ng's voice for each language. */
export const PROMPT_VOICES: Record<PromptLanguage, string> = { en: 'en-us', es: 'es' };

export const PROMPT_TEXTS: Record<PromptLanguage, Record<PromptName, string>> = {
  en: {
    'enter-pin': 'Please enter the meeting PIN followed by the hash key.',
    'pin-retry': 'That PIN is not valid. Please try again.',
    'pin-refused': 'Sorry, that PIN is not valid. Goodbye.',
    goodbye: 'Goodbye.',
    welcome: 'Welcome. You are joining the meeting.',
    muted: 'You are now muted.',
    unmuted: 'You are now unmuted.',
  },
  es: {
    'enter-pin': 'Introduzca el PIN de la reunión seguido de la tecla almohadilla.',
    'pin-retry': 'Ese PIN no es válido. Inténtelo de nuevo.',
    'pin-refused': 'Lo sentimos, ese PIN no es válido. Adiós.',
    goodbye: 'Adiós.',
    welcome: 'Bienvenido. Está entrando en la reunión.',
    muted: 'Su micrófono está silenciado.',
    unmuted: 'Su micrófono ya no está silenciado.',
  },
};
