#!/usr/bin/env bash
# Makes the committed test fixtures. Needs espeak-ng, sox with MP3 support, sndfile-convert and opusenc
# (Debian: espeak-ng sox libsox-fmt-mp3 sndfile-programs opus-tools).
# Re-running it rewrites the files with the same bytes (except the Opus file, whose Ogg stream serial
# number is random, and damaged/garbage-header.wav, which is random on purpose); commit the result.
set -euo pipefail
cd "$(dirname "$0")/../TestAudio"
for tool in espeak-ng sox sndfile-convert opusenc; do
  command -v $tool >/dev/null || { echo "needs $tool (apt-get install espeak-ng sox libsox-fmt-mp3 sndfile-programs opus-tools)" >&2; exit 1; }
done
# No dither and repeatable random numbers, so that re-running the script gives the same bytes.
sox() { command sox -D -R "$@"; }
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
soxi speech/talkoff-8k-ulaw.wav

# --- Recordings: one prompt in every format libsndfile 1.2 reads. ---------------------------
# The master is 44.1 kHz stereo (both channels the same speech, so a mono mix keeps its level),
# normalised to -3 dBFS peak; every other file is made from it.
mkdir -p formats damaged
espeak-ng -v en+f3 -s 165 -w "$tmp/prompt.wav" "Welcome. The door is opening."
sox "$tmp/prompt.wav" -r 44100 -c 2 -b 16 formats/prompt-44k-stereo.wav norm -3
m=formats/prompt-44k-stereo.wav
sox $m -r 48000 -c 1 -e floating-point -b 32 formats/prompt-48k-float.wav
sox $m -r 8000 -c 1 -e mu-law formats/prompt-8k-ulaw.wav
sox $m -r 8000 -c 1 -e a-law formats/prompt-8k-alaw.wav
sox $m -r 8000 -c 1 -b 16 "$tmp/p8k.wav"
sndfile-convert -ima-adpcm "$tmp/p8k.wav" formats/prompt-8k-ima-adpcm.wav
sndfile-convert -ms-adpcm "$tmp/p8k.wav" formats/prompt-8k-ms-adpcm.wav
sndfile-convert -gsm610 "$tmp/p8k.wav" formats/prompt-8k-gsm610.wav
sox $m -r 22050 -c 1 formats/prompt-22k.aiff
sox $m -r 16000 -c 1 -b 16 "$tmp/p16k.wav"
sndfile-convert -pcm16 "$tmp/p16k.wav" formats/prompt-16k.caf
sox $m formats/prompt-44k-stereo.flac
sox $m -r 44100 -c 1 -C 3 formats/prompt-44k.ogg
sox $m -r 48000 -c 1 -b 16 "$tmp/p48k.wav"
# opusenc, not sndfile-convert: libsndfile 1.2.0's Opus writer makes files 2.7 dB louder than their source.
opusenc --quiet --bitrate 32 "$tmp/p48k.wav" formats/prompt-48k.opus
sox $m -C 64 formats/prompt-44k-stereo.mp3
# VBR at 22.05 kHz mono (MPEG-2 Layer III): its first frame is a Xing header with the frame count.
sox $m -r 22050 -c 1 -C -4.5 formats/prompt-22k-vbr.mp3

# --- The system default prompt that ships with the library ("recording": "default"). --------
espeak-ng -v en+f3 -s 160 -w "$tmp/default.wav" "Thank you. Please hold."
sox "$tmp/default.wav" -r 8000 -c 1 -e mu-law ../Sources/Recordings/Resources/default-prompt.wav norm -6
../Scripts/embed-default-prompt.sh   # ... and built into the library as C bytes (Sources/CDefaultPrompt)

# --- The README's example: the welcome prompt of Examples/front-door.json. --------------------
espeak-ng -v en-us+m3 -s 155 -w "$tmp/welcome.wav" "Welcome to one hundred Main Street. Please wait while the door opens."
sox "$tmp/welcome.wav" -r 8000 -c 1 -e mu-law ../Examples/recordings/welcome.wav norm -6

# The IVR greeting of Examples/account.json.
espeak-ng -v en-us+f2 -s 160 -w "$tmp/lobby.wav" "One hundred Main Street. For the front door, press 1. For the parking gate, press 2. To hear this again, press 9."
sox "$tmp/lobby.wav" -r 8000 -c 1 -e mu-law ../Examples/recordings/lobby-greeting.wav norm -6

# --- Damaged and hostile uploads. ----------------------------------------------------------
: > damaged/zero-length.wav
head -c 2000 formats/prompt-44k-stereo.flac > damaged/truncated.flac
head -c 30000 formats/prompt-44k-stereo.wav > damaged/truncated.wav
{ printf 'RIFF\x24\x10\x00\x00WAVEfmt '; head -c 3000 /dev/urandom; } > damaged/garbage-header.wav
cp formats/prompt-44k-stereo.flac damaged/flac-named.wav        # wrong extension: read by content
printf 'This is a text file, not audio.\n' > damaged/text-named.mp3
# A valid WAV header with absurd values: rate 2147483647; 1000 channels; a data size of 4 GiB.
python3 - <<'PY'
import struct
def wav(path, channels, rate, data_size, payload=b"\0" * 4000):
    block = channels * 2
    header = b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, 16)
    open(path, "wb").write(header + b"data" + struct.pack("<I", data_size) + payload)
wav("damaged/absurd-rate.wav", 1, 2147483647, 4000)
wav("damaged/absurd-channels.wav", 1000, 8000, 4000)
wav("damaged/absurd-size.wav", 1, 8000, 0xFFFFFFF0)
PY
ls -l formats damaged

# --- A door-phone capture for `callseq plot`: 9876# as the demo dials it, then three near misses the
# receiver must refuse - a 20 ms '5' (too short), a '2' with its high tone 14 dB under its low one (twist)
# and a '3' 3.5 % off nominal (frequency) - over a -60 dBFS noise floor, 8 kHz mu-law like a G.711 call.
mkdir -p captures
# tone OUT SECONDS F1 DBM0 F2 DBM0: a dual tone, 2 ms ramps (0 dBm0 is a sine peak of -3.14 dBFS, G.711).
tone() {
  sox -n -r 8000 -c 1 -b 16 "$tmp/t1.wav" synth "$2" sine "$3" gain "$(python3 -c "print($4 - 3.14)")"
  sox -n -r 8000 -c 1 -b 16 "$tmp/t2.wav" synth "$2" sine "$5" gain "$(python3 -c "print($6 - 3.14)")"
  sox -m -v 1 "$tmp/t1.wav" -v 1 "$tmp/t2.wav" "$1" fade h 0.002 -0 0.002   # no click at either end
}
gap() { sox -n -r 8000 -c 1 -b 16 "$1" trim 0 "$2"; }
gap "$tmp/c0.wav" 0.4; parts=("$tmp/c0.wav")
i=1
for pair in "852 1477" "852 1336" "852 1209" "770 1477" "941 1477"; do   # 9 8 7 6 #
  set -- $pair
  tone "$tmp/c$i.wav" 0.15 "$1" -7 "$2" -5; parts+=("$tmp/c$i.wav"); i=$((i + 1))
  gap "$tmp/c$i.wav" 0.1; parts+=("$tmp/c$i.wav"); i=$((i + 1))
done
gap "$tmp/c$i.wav" 0.4; parts+=("$tmp/c$i.wav"); i=$((i + 1))
tone "$tmp/c$i.wav" 0.02 770 -7 1336 -5; parts+=("$tmp/c$i.wav"); i=$((i + 1))          # '5', 20 ms
gap "$tmp/c$i.wav" 0.4; parts+=("$tmp/c$i.wav"); i=$((i + 1))
tone "$tmp/c$i.wav" 0.15 697 -6 1336 -20; parts+=("$tmp/c$i.wav"); i=$((i + 1))         # '2', twist -14 dB
gap "$tmp/c$i.wav" 0.4; parts+=("$tmp/c$i.wav"); i=$((i + 1))
tone "$tmp/c$i.wav" 0.15 721.4 -7 1528.7 -5; parts+=("$tmp/c$i.wav"); i=$((i + 1))     # '3', +3.5 %
gap "$tmp/c$i.wav" 0.4; parts+=("$tmp/c$i.wav"); i=$((i + 1))
sox "${parts[@]}" "$tmp/clean.wav"
sox -n -r 8000 -c 1 -b 16 "$tmp/noise.wav" synth "$(soxi -D "$tmp/clean.wav")" whitenoise gain -60
sox -m -v 1 "$tmp/clean.wav" -v 1 "$tmp/noise.wav" -e mu-law captures/door-9876-near-misses.wav
