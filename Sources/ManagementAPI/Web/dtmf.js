// Dial strings as the model reads them (Sources/TelephonyDSP/DialString.swift): 0-9 * # A-D (a-d too) send a
// digit — a tone, then the gap — and w waits 0.5 s, W 1 s. Durations follow DTMFTiming (100 ms tones and gaps
// unless the step sets toneMs/gapMs); the system default prompt lasts 2.121 s (16,970 samples at 8 kHz).
export const DEFAULT_TONE_MS = 100;
export const DEFAULT_GAP_MS = 100;
export const DEFAULT_PROMPT_MS = 2121;
export const MAX_DIGITS = 100;
export const MAX_SEQUENCE_MS = 600000;
export const HELP = 'Digits 0-9, * and # (and A-D); w waits half a second, W waits one second. Example: 1234w#';

/// The problem with `text` as a dial string, or null.
export function dialStringProblem(text) {
  if (text.length === 0) return 'enter at least one digit (0-9 * # A-D) or pause (w, W)';
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    if (!/^[0-9*#A-Da-dwW]$/.test(chars[i])) {
      const c = /\s/.test(chars[i]) ? 'a space' : `'${chars[i]}'`;
      return `${c} at position ${i + 1} is not a DTMF digit (0-9 * # A-D) or a pause (w = 0.5 s, W = 1 s)`;
    }
  }
  if (chars.length > MAX_DIGITS) return `${chars.length} characters; at most ${MAX_DIGITS}`;
  return null;
}

/// Milliseconds a DTMF step takes (null when its digits are not a dial string).
export function dtmfMilliseconds(step) {
  const text = step.digits || '';
  if (dialStringProblem(text)) return null;
  const tone = Number.isInteger(step.toneMs) ? step.toneMs : DEFAULT_TONE_MS;
  const gap = Number.isInteger(step.gapMs) ? step.gapMs : DEFAULT_GAP_MS;
  let total = 0;
  for (const c of text) total += c === 'w' ? 500 : c === 'W' ? 1000 : tone + gap;
  return total;
}

/// Seconds as people read them: `2.1 s`, `1 min 4.5 s`.
export function seconds(ms) {
  const s = ms / 1000;
  if (s < 60) return `${(Math.round(s * 10) / 10).toString()} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${(Math.round((s - m * 60) * 10) / 10).toString()} s`;
}
