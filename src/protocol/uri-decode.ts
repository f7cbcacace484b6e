// Percent-decoding of text that may or may not be encoded (a room from a URL path, a hash option, a room as a
// Jitsi client spells it): jitsi-meet's safeDecodeURIComponent. No imports: the IFrame API's script uses it too.

/** `s` percent-decoded once; as it is when it was not encoded after all. */
export function safeDecodeURIComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
