/* Decodes the DTMF digits of an audio file with spandsp's receiver (the reference implementation), at
 * 8 kHz, in 160-sample frames: prints the digits on one line. Used by Scripts/check-c-api.sh on what the hosts wrote.
 *   spandsp_decode FILE.wav */
#include <sndfile.h>
#include <spandsp.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: spandsp_decode FILE\n");
        return 64;
    }
    SF_INFO info = { 0 };
    SNDFILE *file = sf_open(argv[1], SFM_READ, &info);
    if (file == NULL || info.channels != 1 || info.samplerate != 8000) {
        fprintf(stderr, "spandsp_decode: %s: not a mono 8 kHz audio file\n", argv[1]);
        return 1;
    }
    dtmf_rx_state_t *receiver = dtmf_rx_init(NULL, NULL, NULL);
    int16_t frame[160];
    sf_count_t n;
    while ((n = sf_readf_short(file, frame, 160)) > 0)
        dtmf_rx(receiver, frame, (int)n);
    sf_close(file);
    char digits[256];
    int count = dtmf_rx_get(receiver, digits, 255);
    digits[count > 0 ? count : 0] = '\0';
    printf("%s\n", digits);
    dtmf_rx_free(receiver);
    return 0;
}
