/* A minimal media-server host of libcallsequence: a call reaches the lobby number of Examples/account.json,
 * 8 kHz mu-law in 20 ms frames, as an RTP thread would run it. The caller presses 1 two seconds into the menu
 * (an RFC 4733 digit, handed to cs_call_press); the caller's own audio (silence here) goes through the
 * library's DTMF receiver every frame. What the caller hears is written to a WAV file with libsndfile, and
 * every event is printed.
 *
 *   make && ./host ../account.json out.wav [DID]
 */
#include <callsequence.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>

#define RATE 8000
#define FRAME 160            /* 20 ms at 8 kHz: one RTP packet of PCMU */
#define MAX_SECONDS 120

static void log_to_stderr(int level, const char *message, void *user)
{
    (void)user;
    static const char *names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "callsequence %s: %s\n", level >= 0 && level <= 3 ? names[level] : "?", message);
}

static const char *end_reason(int reason)
{
    switch (reason) {
    case CS_END_ROUTE_HANGUP: return "the number routes to hangup";
    case CS_END_HANGUP_OPTION: return "the caller chose hang up";
    case CS_END_NO_CHOICE: return "no choice after every play of the menu";
    case CS_END_SEQUENCE_FINISHED: return "the sequence finished";
    case CS_END_CALLER_HUNG_UP: return "the caller hung up";
    default: return "?";
    }
}

static void print_event(const cs_account *account, const cs_event *e)
{
    double t = (double)e->sample / RATE;
    const char *from, *to, *message;
    switch (e->kind) {
    case CS_EVENT_MENU_STARTED:
        printf("%7.3f s: IVR %d plays its menu (play %d)\n", t, e->ivr, e->play);
        break;
    case CS_EVENT_DIGIT:
        printf("%7.3f s: caller pressed %c\n", t, e->digit);
        break;
    case CS_EVENT_INVALID_OPTION:
        printf("%7.3f s: %c is not an option of IVR %d\n", t, e->digit, e->ivr);
        break;
    case CS_EVENT_TIMED_OUT:
        printf("%7.3f s: no digit: IVR %d timed out\n", t, e->ivr);
        break;
    case CS_EVENT_SEQUENCE_STARTED:
        printf("%7.3f s: sequence %d starts\n", t, e->sequence);
        break;
    case CS_EVENT_STEP_STARTED:
        printf("%7.3f s:   step %d starts\n", t, e->step + 1);
        break;
    case CS_EVENT_STEP_FINISHED:
        printf("%7.3f s:   step %d finished\n", t, e->step + 1);
        break;
    case CS_EVENT_SMS_REQUESTED:
        /* A real host queues the text for a sender thread: never send from the audio thread. */
        if (cs_account_sms(account, e->sequence, e->step, &from, &to, &message) == CS_OK)
            printf("%7.3f s:   SMS from %s to %s: \"%s\" (to send off the audio thread)\n", t, from, to, message);
        break;
    case CS_EVENT_TELEPHONE_EVENT:
        /* RFC 4733: one update per packet; print the start and the end of each digit. */
        if (e->ended)
            printf("%7.3f s:   telephone-event %c ended: %d samples, volume -%d dBm0, timestamp +%lld\n", t,
                   e->digit, e->duration, e->volume, (long long)(e->sample - e->duration));
        else if (e->duration <= FRAME)
            printf("%7.3f s:   telephone-event %c begins\n", t, e->digit);
        break;
    case CS_EVENT_SEQUENCE_FINISHED:
        printf("%7.3f s: sequence %d finished\n", t, e->sequence);
        break;
    case CS_EVENT_FINISHED:
        printf("%7.3f s: call over: %s\n", t, end_reason(e->reason));
        break;
    default:
        printf("%7.3f s: event %d\n", t, e->kind);
    }
}

int main(int argc, char **argv)
{
    const char *account_path = argc > 1 ? argv[1] : "../account.json";
    const char *output = argc > 2 ? argv[2] : "out.wav";
    const char *did = argc > 3 ? argv[3] : "(514) 555-0100";

    printf("libcallsequence %s (header %s)\n", cs_version(), CS_VERSION_STRING);
    cs_set_log_handler(log_to_stderr, NULL);

    /* Start-up (not the audio thread): load and compile the account once, for every call of this format. */
    cs_format format = { RATE, CS_ULAW, CS_DTMF_BOTH };
    cs_error *error = NULL;
    cs_account *account = cs_account_load(account_path, &format, &error);
    if (account == NULL) {
        fprintf(stderr, "host: %s\n", cs_error_message(error));
        cs_error_free(error);
        return 1;
    }

    /* A call arrives. */
    cs_call *call = cs_call_new(account, did, &error);
    if (call == NULL) {
        fprintf(stderr, "host: %s\n", cs_error_message(error));
        cs_error_free(error);
        cs_account_release(account);
        return 1;
    }

    SF_INFO info = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_ULAW };
    SNDFILE *wav = sf_open(output, SFM_WRITE, &info);
    if (wav == NULL) {
        fprintf(stderr, "host: %s: %s\n", output, sf_strerror(NULL));
        cs_call_free(call);
        cs_account_release(account);
        return 1;
    }

    /* The media thread: every 20 ms, the caller's packet in, ours out. */
    unsigned char heard[FRAME], caller[FRAME];
    cs_event events[8];
    size_t event_count;
    long frames = 0, menu_frame = -1;
    memset(caller, 0xFF, sizeof caller);             /* mu-law silence from the caller */
    while (!cs_call_is_over(call) && frames < MAX_SECONDS * RATE / FRAME) {
        if (menu_frame >= 0 && frames == menu_frame + 100)
            cs_call_press(call, '1');                /* 2 s into the menu: RFC 4733 digit 1 */
        if (cs_call_render(call, caller, heard, FRAME, events, 8, &event_count) != FRAME) {
            const char *why;
            fprintf(stderr, "host: render: %s\n", (cs_call_status(call, &why), why));
            break;
        }
        for (size_t i = 0; i < event_count; i++) {
            if (events[i].kind == CS_EVENT_MENU_STARTED && menu_frame < 0)
                menu_frame = frames;
            print_event(account, &events[i]);
        }
        sf_write_raw(wav, heard, FRAME);             /* a real host sends an RTP packet */
        frames++;
    }
    sf_close(wav);
    printf("%s: %.3f s, %d Hz mu-law\n", output, (double)frames * FRAME / RATE, RATE);

    cs_call_free(call);
    cs_account_release(account);
    return 0;
}
