// The length of a text as the network counts it (3GPP TS 23.038), as Sources/SMSText does: GSM-7 septets
// (the default alphabet takes 1, the extension table 2) or, when a character has no GSM-7 code, UCS-2 units
// (UTF-16 code units: an emoji takes 2). One SMS holds 160 septets or 70 units.
const BEYOND_ASCII = new Set([
  0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8, 0x00C5, 0x00E5,
  0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E,
  0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
  0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
]);
const EXTENSION = new Set([0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]);

/// Septets `code` (a Unicode scalar) takes in GSM-7: 1, 2, or 0 when it has no GSM-7 code.
export function septets(code) {
  if ((code >= 0x20 && code <= 0x23) || (code >= 0x25 && code <= 0x3F) || (code >= 0x41 && code <= 0x5A)
      || (code >= 0x61 && code <= 0x7A)) return 1;
  if (code === 0x0A || code === 0x0D || code === 0x40 || code === 0x24 || code === 0x5F) return 1;
  if (EXTENSION.has(code)) return 2;
  return BEYOND_ASCII.has(code) ? 1 : 0;
}

const graphemes = typeof Intl !== 'undefined' && Intl.Segmenter ? new Intl.Segmenter('en', { granularity: 'grapheme' }) : null;

function characters(text) {
  return graphemes ? Array.from(graphemes.segment(text), (s) => s.segment) : Array.from(text);
}

/// A printable form of a scalar: controls, format and combining marks as \u{...}.
function shown(code) {
  const c = String.fromCodePoint(code);
  return /[\p{C}\p{M}\p{Zl}\p{Zp}]/u.test(c) ? `\\u{${code.toString(16).toUpperCase()}}` : c;
}

/// `{encoding, units, capacity, characters, culprit, position, fits, text}`: `culprit` is the first character
/// that forced UCS-2 and `position` its 1-based position in characters.
export function smsLength(text) {
  const chars = characters(text);
  let units = 0;
  let culprit = null;
  let position = 0;
  let doubles = false;
  for (let i = 0; i < chars.length && culprit === null; i++) {
    for (const scalar of chars[i]) {
      const code = scalar.codePointAt(0);
      const n = septets(code);
      if (n === 0) { culprit = code; position = i + 1; break; }
      units += n;
      if (n === 2) doubles = true;
    }
  }
  const ucs2 = culprit !== null;
  if (ucs2) units = text.length; // UTF-16 code units
  const capacity = ucs2 ? 70 : 160;
  const result = {
    encoding: ucs2 ? 'UCS-2' : 'GSM-7', units, capacity, characters: chars.length, fits: units <= capacity,
    culprit: ucs2 ? shown(culprit) : null, position,
  };
  let line = `${result.encoding}: ${units} of ${capacity} ${ucs2 ? 'UCS-2 units' : 'septets'}`;
  if (ucs2) line += ` (UCS-2 because '${result.culprit}' at position ${position} is not in GSM-7)`;
  else if (doubles) line += ' (€ [ ] { } \\ ^ ~ | take 2 septets)';
  if (!result.fits) line += `: ${units - capacity} too many for one SMS`;
  result.text = line;
  return result;
}
