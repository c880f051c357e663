#!/usr/bin/env bash
# Makes the committed test fixtures. Needs espeak-ng and sox (make deps installs both).
# Re-running it rewrites the files; commit the result.
set -euo pipefail
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null && command -v sox >/dev/null || { echo "needs espeak-ng and sox" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Talk-off: speech must not produce digits (Mitel test tape, section "talk-off"). ---------
# Several voices, pitches and languages, reading text full of spoken numbers, at 8 kHz mu-law,
# the way speech reaches a receiver on a G.711 call.
text_en="Thank you for calling. Please enter the four digit code for the front door, then press pound. \
One two three four five six seven eight nine zero. Star. Hash. If you know your party's extension, \
you may dial it at any time. Our office hours are nine to five, Monday through Friday. The gate will \
open for thirty seconds. Seven eight five, five five zero one nine nine. Please hold while we connect you."
text_fr="Bonjour, vous etes bien au bureau. Composez le un pour la porte, le deux pour le garage. \
Un deux trois quatre cinq six sept huit neuf zero. Merci de votre appel, au revoir."
text_de="Guten Tag. Bitte geben Sie den Code ein: eins zwei drei vier fuenf sechs sieben acht neun null. \
Die Tuer oeffnet sich jetzt. Vielen Dank fuer Ihren Anruf."
n=0
speak() { # voice pitch speed text
  n=$((n + 1))
  espeak-ng -v "$1" -p "$2" -s "$3" -w "$tmp/part$n.wav" "$4"
  sox "$tmp/part$n.wav" -r 8000 "$tmp/p$n.wav" norm -12
}
speak en 50 160 "$text_en"
speak en+f3 70 175 "$text_en"
speak en+m3 30 140 "$text_en"
speak en-us+f4 90 190 "$text_en"
speak fr 55 160 "$text_fr"
speak de+m2 40 150 "$text_de"
sox $(for i in $(seq 1 $n); do echo "$tmp/p$i.wav"; done) -e mu-law speech/talkoff-8k-ulaw.wav
sox --i speech/talkoff-8k-ulaw.wav
