// The display name this browser remembers (localStorage): the join screen starts from it, and both a join and a
// rename in Settings store it, so a reload comes back under the name last chosen (as Jitsi Meet).
const NAME_KEY = 'tertulia.displayName';

export function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

export function rememberName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // storage may be unavailable (private mode); the name is just not remembered
  }
}
