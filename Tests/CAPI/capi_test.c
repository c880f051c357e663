/* Checks of libcallsequence through its installed header only (built with pkg-config by Scripts/check-c-api.sh).
 *
 *   capi_test checks REPO          every check below; one line each: "ok - what" or "not ok - what: why"
 *   capi_test render SEQUENCE RECORDINGS RATE ENCODING MODE FRAME OUT
 *                                  renders SEQUENCE through a player in FRAME-sample frames and writes the raw
 *                                  samples (int16 little-endian, or G.711 bytes) to OUT, for check-c-api.sh to compare
 *                                  with `callseq render`
 *
 * Each check asserts what a host sees: status codes, the text of messages, bytes, digits, event order. */
#include <callsequence.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static char repo[2048];

static void check(int ok, const char *what, const char *format, ...)
{
    if (ok) {
        printf("ok - %s\n", what);
        passed++;
        return;
    }
    printf("not ok - %s: ", what);
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    printf("\n");
    failed++;
}

static const char *path(const char *relative)
{
    static char buffers[4][4096];
    static int next;
    char *buffer = buffers[next++ % 4];
    snprintf(buffer, 4096, "%s/%s", repo, relative);
    return buffer;
}

/* An error's code is `code` and its message contains every one of the NULL-terminated texts. */
static void check_error(const char *what, const void *result, cs_error *error, int code, ...)
{
    const char *message = cs_error_message(error);
    int ok = result == NULL && error != NULL && cs_error_code(error) == code;
    va_list texts;
    va_start(texts, code);
    for (const char *text = va_arg(texts, const char *); text != NULL; text = va_arg(texts, const char *))
        if (strstr(message, text) == NULL)
            ok = 0;
    va_end(texts);
    ok = ok && strchr(message, '\n') == NULL;
    check(ok, what, "result %p, code %d, message \"%s\"", result, cs_error_code(error), message);
    cs_error_free(error);
}

/* check_error, with the call made before `error` is read (C leaves the order of arguments open). */
#define EXPECT_ERROR(what, call, error, ...)                                                                  \
    do {                                                                                                   \
        const void *result_ = (call);                                                                      \
        check_error(what, result_, error, __VA_ARGS__);                                                    \
    } while (0)

static cs_format format_of(int rate, cs_encoding encoding, cs_dtmf_mode mode)
{
    cs_format format = { rate, encoding, mode };
    return format;
}

static size_t bytes_per_sample(cs_encoding encoding) { return encoding == CS_PCM16 ? 2 : 1; }

/* Plays a whole sequence through a new player in `frame`-sample frames; returns malloc'd audio. */
static unsigned char *render_all(cs_sequence *sequence, cs_encoding encoding, size_t frame, size_t *length)
{
    size_t total = (size_t)cs_sequence_samples(sequence) + frame;
    unsigned char *audio = malloc(total * bytes_per_sample(encoding) + frame * 2);
    cs_player *player = cs_player_new(sequence);
    cs_event events[16];
    size_t count, at = 0;
    while (!cs_player_is_finished(player) && at < total) {
        if (cs_player_render(player, audio + at * bytes_per_sample(encoding), frame, events, 16, &count) != frame)
            break;
        at += frame;
    }
    cs_player_free(player);
    *length = (size_t)cs_sequence_samples(sequence) * bytes_per_sample(encoding);
    return audio;
}

/* ---- bad input ---------------------------------------------------------------------------------- */

static void bad_input(void)
{
    cs_format ulaw = format_of(8000, CS_ULAW, CS_DTMF_INBAND);
    cs_error *error = NULL;
    const char *bad_digit = "{\"name\": \"Door\", \"steps\": [{\"type\": \"dtmf\", \"digits\": \"12z4\"}]}";
    const char *malformed = "{\"name\": \"Door\", \"steps\": [ {\"type\": ";

    EXPECT_ERROR("malformed JSON: CS_ERR_SYNTAX with line and column",
                cs_sequence_compile(malformed, strlen(malformed), NULL, &ulaw, &error), error, CS_ERR_SYNTAX,
                "sequence: invalid JSON at line 1, column", NULL);
    error = NULL;
    EXPECT_ERROR("a bad digit: CS_ERR_INVALID with its JSON path and character",
                cs_sequence_compile(bad_digit, strlen(bad_digit), NULL, &ulaw, &error), error, CS_ERR_INVALID,
                "sequence: steps[0].digits: 'z' at position 3 is not a DTMF digit", NULL);
    error = NULL;
    EXPECT_ERROR("a missing recordings folder: CS_ERR_NOT_FOUND naming it",
                cs_sequence_compile_file(path("Examples/front-door.json"), "/nonexistent/recordings", &ulaw, &error),
                error, CS_ERR_NOT_FOUND, "/nonexistent/recordings: no such recordings folder", NULL);
    error = NULL;
    EXPECT_ERROR("no recordings folder: a named recording is unknown (JSON path)",
                cs_sequence_compile_file(path("Examples/front-door.json"), NULL, &ulaw, &error), error,
                CS_ERR_INVALID, "front-door.json: steps[0].recording", "welcome", NULL);
    error = NULL;
    EXPECT_ERROR("a missing sequence file: CS_ERR_NOT_FOUND",
                cs_sequence_compile_file("/nonexistent/door.json", NULL, &ulaw, &error), error, CS_ERR_NOT_FOUND,
                "/nonexistent/door.json: no such file", NULL);
    error = NULL;
    EXPECT_ERROR("NULL path: CS_ERR_NULL", cs_sequence_compile_file(NULL, NULL, &ulaw, &error), error, CS_ERR_NULL,
                "cs_sequence_compile_file: path is NULL", NULL);
    error = NULL;
    EXPECT_ERROR("NULL json: CS_ERR_NULL", cs_sequence_compile(NULL, 10, NULL, &ulaw, &error), error, CS_ERR_NULL,
                "json is NULL", NULL);
    error = NULL;
    EXPECT_ERROR("length 0: CS_ERR_ARGUMENT", cs_sequence_compile(bad_digit, 0, NULL, &ulaw, &error), error,
                CS_ERR_ARGUMENT, "length is 0", NULL);
    error = NULL;
    EXPECT_ERROR("NULL format: CS_ERR_NULL",
                cs_sequence_compile(bad_digit, strlen(bad_digit), NULL, NULL, &error), error, CS_ERR_NULL,
                "format is NULL", NULL);
    error = NULL;
    cs_format bad_encoding = { 8000, (cs_encoding)7, CS_DTMF_INBAND };
    const char *door = "{\"name\": \"Door\", \"steps\": [{\"type\": \"dtmf\", \"digits\": \"1\"}]}";
    EXPECT_ERROR("an encoding out of range: CS_ERR_ARGUMENT",
                cs_sequence_compile(door, strlen(door), NULL, &bad_encoding, &error), error, CS_ERR_ARGUMENT,
                "format.encoding 7 is not", NULL);
    error = NULL;
    cs_format bad_mode = { 8000, CS_PCM16, (cs_dtmf_mode)-1 };
    EXPECT_ERROR("a DTMF mode out of range: CS_ERR_ARGUMENT",
                cs_sequence_compile(door, strlen(door), NULL, &bad_mode, &error), error, CS_ERR_ARGUMENT,
                "format.dtmf_mode -1 is not", NULL);
    error = NULL;
    cs_format bad_rate = { 1000, CS_PCM16, CS_DTMF_INBAND };
    EXPECT_ERROR("a sample rate out of range: CS_ERR_ARGUMENT",
                cs_sequence_compile(door, strlen(door), NULL, &bad_rate, &error), error, CS_ERR_ARGUMENT,
                "format.sample_rate 1000 Hz is not supported", NULL);
    error = NULL;
    const char invalid_utf8[] = "{\"name\": \"D\xff\", \"steps\": []}";
    EXPECT_ERROR("invalid UTF-8: CS_ERR_ARGUMENT",
                cs_sequence_compile(invalid_utf8, sizeof invalid_utf8 - 1, NULL, &ulaw, &error), error,
                CS_ERR_ARGUMENT, "json is not valid UTF-8", NULL);
    check(cs_sequence_compile(door, strlen(door), NULL, NULL, NULL) == NULL,
          "a NULL error pointer is allowed", "a sequence with a NULL format");
    check(strcmp(cs_error_message(NULL), "success") == 0 && cs_error_code(NULL) == CS_OK,
          "NULL error: success", "%s", cs_error_message(NULL));
    check(strcmp(cs_status_string(CS_ERR_SYNTAX), "malformed JSON") == 0 && cs_status_string(99) != NULL,
          "cs_status_string", "%s", cs_status_string(CS_ERR_SYNTAX));

    /* Accounts and calls. */
    error = NULL;
    EXPECT_ERROR("an account with a DID routed to a sequence: CS_ERR_INVALID with its JSON path",
                cs_account_load(path("TestAudio/accounts/did-routed-to-sequence.json"), &ulaw, &error), error,
                CS_ERR_INVALID, "did-routed-to-sequence.json: dids[0].route: a sequence can only be used", NULL);
    error = NULL;
    EXPECT_ERROR("a missing account file: CS_ERR_NOT_FOUND",
                cs_account_load("/nonexistent/account.json", &ulaw, &error), error, CS_ERR_NOT_FOUND,
                "/nonexistent/account.json: no such file", NULL);
    error = NULL;
    cs_account *account = cs_account_load(path("Examples/account.json"), &ulaw, &error);
    check(account != NULL && error == NULL, "Examples/account.json loads", "%s", cs_error_message(error));
    if (account == NULL)
        return;
    error = NULL;
    EXPECT_ERROR("an unknown DID: CS_ERR_NOT_FOUND listing the account's numbers",
                cs_call_new(account, "(514) 555-0199", &error), error, CS_ERR_NOT_FOUND,
                "5145550199 is not a number of this account", "5145550100", NULL);
    error = NULL;
    EXPECT_ERROR("a DID that is not a number: CS_ERR_ARGUMENT",
                cs_call_new(account, "514-CALL-NOW", &error), error, CS_ERR_ARGUMENT,
                "did '514-CALL-NOW' is not a US/Canada number", NULL);
    error = NULL;
    EXPECT_ERROR("a NULL DID: CS_ERR_NULL", cs_call_new(account, NULL, &error), error, CS_ERR_NULL,
                "did is NULL", NULL);
    error = NULL;
    EXPECT_ERROR("a NULL account: CS_ERR_NULL", cs_call_new(NULL, "5145550100", &error), error, CS_ERR_NULL,
                "the account is NULL", NULL);

    cs_call *call = cs_call_new(account, "+1 514 555 0100", &error);
    check(call != NULL, "a call to +1 514 555 0100 (the lobby)", "%s", cs_error_message(error));
    unsigned char frame[160];
    cs_event events[4];
    size_t count = 99;
    const char *message = NULL;
    check(cs_call_render(call, NULL, frame, 0, events, 4, &count) == 0 && count == 0
              && cs_call_status(call, &message) == CS_ERR_ARGUMENT && strstr(message, "count is 0"),
          "count 0: nothing rendered, CS_ERR_ARGUMENT", "%s", message);
    check(cs_call_render(call, NULL, frame, 160, events, 0, &count) == 0
              && cs_call_status(call, &message) == CS_ERR_ARGUMENT && strstr(message, "max_events is 0"),
          "max_events 0: nothing rendered, CS_ERR_ARGUMENT", "%s", message);
    check(cs_call_render(call, NULL, frame, 8001, events, 4, &count) == 0
              && cs_call_status(call, &message) == CS_ERR_ARGUMENT && strstr(message, "count is too large"),
          "a call frame over one second: CS_ERR_ARGUMENT", "%s", message);
    check(cs_call_render(call, NULL, NULL, 160, events, 4, &count) == 0
              && cs_call_status(call, &message) == CS_ERR_NULL && strstr(message, "samples is NULL"),
          "NULL samples: CS_ERR_NULL", "%s", message);
    check(cs_call_render(call, NULL, frame, 160, NULL, 4, &count) == 0
              && cs_call_status(call, &message) == CS_ERR_NULL && strstr(message, "events is NULL"),
          "NULL events: CS_ERR_NULL", "%s", message);
    check(cs_call_render(call, NULL, frame, 160, events, 4, NULL) == 0
              && cs_call_status(call, &message) == CS_ERR_NULL && strstr(message, "event_count is NULL"),
          "NULL event_count: CS_ERR_NULL", "%s", message);
    check(cs_call_render(call, NULL, frame, (size_t)-1, events, 4, &count) == 0
              && cs_call_status(call, &message) == CS_ERR_ARGUMENT,
          "count (size_t)-1: CS_ERR_ARGUMENT", "%s", message);
    cs_call_press(call, '?');
    check(cs_call_status(call, &message) == CS_ERR_ARGUMENT && strstr(message, "not a DTMF digit"),
          "a bad digit pressed: CS_ERR_ARGUMENT", "%s", message);
    check(cs_call_render(call, NULL, frame, 160, events, 4, &count) == 160 && cs_call_status(call, NULL) == CS_OK
              && count == 1 && events[0].kind == CS_EVENT_MENU_STARTED && events[0].ivr == 0 && events[0].play == 1,
          "after bad calls the call still plays: menu of IVR 0, play 1", "count %zu kind %d", count, events[0].kind);
    check(cs_call_render(NULL, NULL, frame, 160, events, 4, &count) == 0 && count == 0
              && cs_call_status(NULL, &message) == CS_ERR_NULL && cs_call_is_over(NULL) == 1,
          "a NULL call: 0 samples, CS_ERR_NULL", "%s", message);
    cs_call_press(NULL, '1');
    cs_call_hangup(NULL);
    cs_call_free(NULL);
    cs_call_free(call);
    cs_account_release(account);
    cs_account_release(NULL);

    /* Players and detectors. */
    error = NULL;
    cs_sequence *sequence = cs_sequence_compile(door, strlen(door), NULL, &ulaw, &error);
    cs_player *player = cs_player_new(sequence);
    int16_t pcm[161];
    check(cs_player_render(player, frame, 0, events, 4, &count) == 0
              && cs_player_status(player, &message) == CS_ERR_ARGUMENT && strstr(message, "count is 0"),
          "player count 0: CS_ERR_ARGUMENT", "%s", message);
    check(cs_player_render(player, frame, 160, events, 0, &count) == 0
              && cs_player_status(player, &message) == CS_ERR_ARGUMENT && strstr(message, "max_events is 0"),
          "player max_events 0: CS_ERR_ARGUMENT", "%s", message);
    check(cs_player_new(NULL) == NULL && cs_player_render(NULL, frame, 160, events, 4, &count) == 0
              && cs_player_status(NULL, &message) == CS_ERR_NULL && cs_player_is_finished(NULL) == 1,
          "a NULL player: NULL, 0 samples, CS_ERR_NULL", "%s", message);
    cs_player_cancel(NULL);
    cs_player_free(NULL);
    cs_player_free(player);
    cs_sequence_release(sequence);

    cs_format pcm16 = format_of(8000, CS_PCM16, CS_DTMF_INBAND);
    sequence = cs_sequence_compile(door, strlen(door), NULL, &pcm16, &error);
    player = cs_player_new(sequence);
    check(cs_player_render(player, (char *)pcm + 1, 160, events, 4, &count) == 0
              && cs_player_status(player, &message) == CS_ERR_ARGUMENT && strstr(message, "aligned"),
          "a misaligned int16 buffer: CS_ERR_ARGUMENT", "%s", message);
    cs_player_free(player);
    check(cs_sequence_sms(sequence, 0, NULL, NULL, NULL) == CS_ERR_ARGUMENT
              && cs_sequence_sms(sequence, 7, NULL, NULL, NULL) == CS_ERR_ARGUMENT
              && cs_sequence_sms(NULL, 0, NULL, NULL, NULL) == CS_ERR_NULL,
          "cs_sequence_sms of a DTMF step, a missing step, NULL: errors", "");
    cs_sequence_release(sequence);

    error = NULL;
    EXPECT_ERROR("a detector at 1000 Hz: CS_ERR_ARGUMENT", cs_detector_new(1000, &error), error, CS_ERR_ARGUMENT,
                "sample_rate 1000 Hz is not supported", NULL);
    cs_detector *detector = cs_detector_new(8000, NULL);
    check(cs_detector_process(detector, pcm, 0, events, 4, &count) == 0
              && cs_detector_status(detector, &message) == CS_ERR_ARGUMENT
              && cs_detector_process(detector, NULL, 10, events, 4, &count) == 0
              && cs_detector_status(detector, &message) == CS_ERR_NULL
              && cs_detector_process(NULL, pcm, 10, events, 4, &count) == 0,
          "detector count 0, NULL samples, NULL detector: errors", "%s", message);
    cs_detector_free(detector);
    cs_detector_free(NULL);
}

/* ---- what the player and the receiver do --------------------------------------------------------- */

static void playback(void)
{
    cs_format pcm16 = format_of(8000, CS_PCM16, CS_DTMF_BOTH);
    cs_error *error = NULL;
    cs_sequence *sequence = cs_sequence_compile_file(path("Examples/front-door.json"), path("Examples/recordings"),
                                                     &pcm16, &error);
    check(sequence != NULL, "front-door.json compiles", "%s", cs_error_message(error));
    if (sequence == NULL)
        return;
    check(strcmp(cs_sequence_name(sequence), "Front door") == 0 && cs_sequence_step_count(sequence) == 3,
          "its name and steps", "%s", cs_sequence_name(sequence));
    const char *from, *to, *text;
    check(cs_sequence_sms(sequence, 2, &from, &to, &text) == CS_OK && strcmp(from, "5145550100") == 0
              && strcmp(to, "5145550199") == 0 && strcmp(text, "Front door opened") == 0,
          "the SMS step's text", "");

    /* The receiver hears the door code in what the player renders (PCM16, 20 ms frames). */
    cs_sequence_retain(sequence);
    cs_player *player = cs_player_new(sequence);
    cs_sequence_release(sequence);     /* the host's extra reference */
    cs_sequence_release(sequence);     /* and its own: the player keeps the sequence alive */
    size_t total = 47898 + 160;
    int16_t *audio = calloc(total, sizeof *audio);
    cs_event events[64], all[256];
    size_t count, collected = 0, at = 0;
    while (!cs_player_is_finished(player) && at + 160 <= total) {
        if (cs_player_render(player, audio + at, 160, events, 64, &count) != 160)
            break;
        for (size_t i = 0; i < count && collected < 256; i++)
            all[collected++] = events[i];
        at += 160;
    }
    cs_player_free(player);
    check(at == 47898 - 47898 % 160 + 160, "a player renders after the host released its sequence",
          "%zu samples", at);
    cs_detector *detector = cs_detector_new(8000, NULL);
    char digits[32] = { 0 };
    size_t ndigits = 0;
    for (size_t i = 0; i < at; i += 160) {
        cs_detector_process(detector, audio + i, 160, events, 64, &count);
        for (size_t k = 0; k < count; k++)
            if (events[k].kind == CS_EVENT_DIGIT && events[k].ended && ndigits < 31)
                digits[ndigits++] = events[k].digit;
    }
    cs_detector_free(detector);
    check(strcmp(digits, "9876#") == 0, "cs_detector hears 9876# in the player's PCM16", "\"%s\"", digits);

    /* Events: in order, the telephone-events of each digit, finished last. */
    int order_ok = collected > 0 && all[0].kind == CS_EVENT_STEP_STARTED && all[collected - 1].kind == CS_EVENT_FINISHED;
    char ended[32] = { 0 };
    size_t nended = 0;
    for (size_t i = 0; i < collected; i++) {
        if (i > 0 && all[i].sample < all[i - 1].sample && all[i].kind != CS_EVENT_TELEPHONE_EVENT)
            order_ok = 0;
        if (all[i].kind == CS_EVENT_TELEPHONE_EVENT && all[i].ended && nended < 31) {
            ended[nended++] = all[i].digit;
            if (all[i].duration != 1200 || all[i].volume != 10)
                order_ok = 0;
        }
    }
    check(order_ok && strcmp(ended, "9876#") == 0,
          "events in order; RFC 4733 events 9876#, 1200 samples (150 ms), volume 10", "\"%s\", %zu events", ended,
          collected);
    free(audio);

    /* Events that do not fit in max_events wait for the next call, in order, never dropped. */
    const char *burst = "{\"name\": \"Texts\", \"steps\": ["
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"1\"},"
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"2\"},"
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"3\"},"
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"4\"},"
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"5\"},"
        "{\"type\":\"dtmf\",\"digits\":\"1\"},"
        "{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"6\"}]}";
    sequence = cs_sequence_compile(burst, strlen(burst), NULL, &pcm16, &error);
    int16_t frame[160];
    int kinds[64], steps[64], n = 0, renders = 0, first_frame = -1;
    player = cs_player_new(sequence);
    while (!cs_player_is_finished(player) && renders < 1000) {
        size_t got = cs_player_render(player, frame, 160, events, 1, &count);
        if (renders == 0)
            first_frame = (int)count;
        renders++;
        (void)got;
        for (size_t i = 0; i < count && n < 64; i++, n++) {
            kinds[n] = events[i].kind;
            steps[n] = events[i].step;
        }
    }
    cs_player_free(player);
    /* Six SMS steps around a DTMF step: count the SMS requests and check the steps come in order. */
    int sms = 0, in_order = 1, last_step = 0;
    for (int i = 0; i < n; i++) {
        if (kinds[i] == CS_EVENT_SMS_REQUESTED)
            sms++;
        if (kinds[i] == CS_EVENT_STEP_STARTED) {
            if (steps[i] < last_step)
                in_order = 0;
            last_step = steps[i];
        }
    }
    check(first_frame == 1 && sms == 6 && in_order && last_step == 6 && kinds[n - 1] == CS_EVENT_FINISHED,
          "max_events 1: every event arrives, one per call, in order", "%d events, %d SMS, last step %d", n, sms,
          last_step);
    cs_sequence_release(sequence);

    /* More than CS_EVENTS_PENDING_LIMIT waiting: the render only hands out events (CS_ERR_EVENTS_PENDING). */
    char many[16384];
    int used = snprintf(many, sizeof many, "{\"name\": \"Many\", \"steps\": [");
    for (int i = 0; i < 40; i++)
        used += snprintf(many + used, sizeof many - (size_t)used,
                         "%s{\"type\":\"sms\",\"from\":\"5145550100\",\"to\":\"5145550199\",\"message\":\"%d\"}",
                         i ? "," : "", i);
    snprintf(many + used, sizeof many - (size_t)used, "]}");
    sequence = cs_sequence_compile(many, strlen(many), NULL, &pcm16, &error);
    check(sequence != NULL, "a sequence of 40 SMS steps compiles", "%s", cs_error_message(error));
    player = cs_player_new(sequence);
    int pending_seen = 0, total_events = 0;
    renders = 0;
    while (!cs_player_is_finished(player) && renders < 1000) {
        size_t got = cs_player_render(player, frame, 160, events, 1, &count);
        if (got == 0 && cs_player_status(player, NULL) == CS_ERR_EVENTS_PENDING)
            pending_seen++;
        total_events += (int)count;
        renders++;
    }
    cs_player_free(player);
    check(pending_seen > 0 && total_events == 40 * 3 + 1,
          "over 64 events waiting: renders pause (CS_ERR_EVENTS_PENDING) until collected, none lost",
          "%d paused renders, %d events", pending_seen, total_events);
    cs_sequence_release(sequence);
}

/* ---- one shared sequence, 16 threads ------------------------------------------------------------- */

struct worker {
    cs_sequence *sequence;
    unsigned char *audio;
    size_t length;
    size_t frame;
};

static void *work(void *argument)
{
    struct worker *w = argument;
    w->audio = render_all(w->sequence, CS_ULAW, w->frame, &w->length);
    return NULL;
}

static void threads(void)
{
    cs_format ulaw = format_of(8000, CS_ULAW, CS_DTMF_BOTH);
    cs_sequence *sequence = cs_sequence_compile_file(path("Examples/front-door.json"), path("Examples/recordings"),
                                                     &ulaw, NULL);
    size_t reference_length;
    unsigned char *reference = render_all(sequence, CS_ULAW, 160, &reference_length);
    struct worker workers[16];
    pthread_t ids[16];
    for (int i = 0; i < 16; i++) {
        workers[i] = (struct worker){ cs_sequence_retain(sequence), NULL, 0, (size_t)(i % 2 ? 160 : 7 + 13 * i) };
        pthread_create(&ids[i], NULL, work, &workers[i]);
    }
    cs_sequence_release(sequence);   /* the threads hold theirs */
    int same = 0;
    for (int i = 0; i < 16; i++) {
        pthread_join(ids[i], NULL);
        if (workers[i].length == reference_length && memcmp(workers[i].audio, reference, reference_length) == 0)
            same++;
        cs_sequence_release(workers[i].sequence);
        free(workers[i].audio);
    }
    check(same == 16 && reference_length == 47898,
          "16 threads playing one shared cs_sequence (frames of 7 to 202 samples) write identical bytes",
          "%d of 16 identical", same);
    free(reference);
}

/* ---- IVR calls and the log handler ------------------------------------------------------------------ */

static int logged;
static char last_log[1024];

static void on_log(int level, const char *message, void *user)
{
    (*(int *)user)++;
    if (level == CS_LOG_INFO)
        snprintf(last_log, sizeof last_log, "%s", message);
}

static void calls(void)
{
    cs_set_log_handler(on_log, &logged);
    cs_format ulaw = format_of(8000, CS_ULAW, CS_DTMF_INBAND);
    cs_account *account = cs_account_load(path("Examples/account.json"), &ulaw, NULL);
    check(logged > 0 && strstr(last_log, "account.json: 4 numbers, 1 IVRs, 2 sequences"),
          "the log handler gets the library's messages", "%d: %s", logged, last_log);
    cs_set_log_handler(NULL, NULL);

    /* The caller's audio carries digit 2 (the parking gate), as mu-law: the call's receiver hears it. */
    cs_format pcm16 = format_of(8000, CS_PCM16, CS_DTMF_INBAND);
    const char *two = "{\"name\": \"Two\", \"steps\": [{\"type\":\"dtmf\",\"digits\":\"2\",\"toneMs\":120}]}";
    cs_sequence *tone = cs_sequence_compile(two, strlen(two), NULL, &pcm16, NULL);
    size_t tone_length;
    int16_t *tone_audio = (int16_t *)render_all(tone, CS_PCM16, 160, &tone_length);
    cs_sequence_release(tone);

    cs_call *call = cs_call_new(account, "514.555.0100", NULL);
    unsigned char caller[160], heard[160];
    cs_event events[8];
    size_t count;
    int digit_seen = 0, sequence_started = -1, finished_reason = 0, frames = 0;
    while (!cs_call_is_over(call) && frames < 3000) {
        for (int i = 0; i < 160; i++) {
            size_t at = (size_t)(frames - 100) * 160 + (size_t)i;   /* the tone 2 s into the call */
            int16_t x = frames >= 100 && at < tone_length / 2 ? tone_audio[at] : 0;
            /* mu-law encode (G.711): bias, segment, invert */
            int sign = x < 0, magnitude = sign ? -(int)x : x;
            if (magnitude > 32635) magnitude = 32635;
            magnitude += 0x84;
            int segment = 0;
            for (int v = magnitude >> 8; v; v >>= 1) segment++;
            caller[i] = (unsigned char)(~((sign << 7) | (segment << 4) | ((magnitude >> (segment + 3)) & 15)));
        }
        if (cs_call_render(call, caller, heard, 160, events, 8, &count) != 160)
            break;
        for (size_t i = 0; i < count; i++) {
            if (events[i].kind == CS_EVENT_DIGIT && events[i].digit == '2')
                digit_seen = 1;
            if (events[i].kind == CS_EVENT_SEQUENCE_STARTED)
                sequence_started = events[i].sequence;
            if (events[i].kind == CS_EVENT_FINISHED)
                finished_reason = events[i].reason;
        }
        frames++;
    }
    free(tone_audio);
    cs_call_free(call);
    check(digit_seen && sequence_started == 1 && finished_reason == CS_END_SEQUENCE_FINISHED,
          "digit 2 in the caller's mu-law audio runs the parking gate sequence to its end",
          "digit %d, sequence %d, reason %d", digit_seen, sequence_started, finished_reason);

    /* Hang-up: the next frame ends the call. */
    call = cs_call_new(account, "5145550100", NULL);
    cs_call_render(call, NULL, heard, 160, events, 8, &count);
    cs_call_hangup(call);
    cs_call_render(call, NULL, heard, 160, events, 8, &count);
    check(count == 1 && events[0].kind == CS_EVENT_FINISHED && events[0].reason == CS_END_CALLER_HUNG_UP
              && events[0].cancelled == 1 && cs_call_is_over(call) == 1,
          "cs_call_hangup ends the call (reason caller hung up)", "count %zu", count);
    cs_call_free(call);

    /* The hangup-routed DID ends at once. */
    call = cs_call_new(account, "(514) 555-0111", NULL);
    cs_call_render(call, NULL, heard, 160, events, 8, &count);
    check(count == 1 && events[0].kind == CS_EVENT_FINISHED && events[0].reason == CS_END_ROUTE_HANGUP,
          "a number routed to hangup ends the call in its first frame", "count %zu", count);
    cs_call_free(call);
    cs_account_release(account);
}

/* ---- main ------------------------------------------------------------------------------------------ */

static int render_command(char **argv)
{
    cs_format format = { atoi(argv[4]), CS_PCM16, CS_DTMF_INBAND };
    format.encoding = strcmp(argv[5], "ulaw") == 0 ? CS_ULAW : strcmp(argv[5], "alaw") == 0 ? CS_ALAW : CS_PCM16;
    format.dtmf_mode = strcmp(argv[6], "rfc4733") == 0 ? CS_DTMF_RFC4733
                       : strcmp(argv[6], "both") == 0 ? CS_DTMF_BOTH : CS_DTMF_INBAND;
    cs_error *error = NULL;
    cs_sequence *sequence = cs_sequence_compile_file(argv[2], argv[3], &format, &error);
    if (sequence == NULL) {
        fprintf(stderr, "capi_test: %s\n", cs_error_message(error));
        cs_error_free(error);
        return 1;
    }
    size_t length;
    unsigned char *audio = render_all(sequence, format.encoding, (size_t)atoi(argv[7]), &length);
    FILE *out = fopen(argv[8], "wb");
    fwrite(audio, 1, length, out);
    fclose(out);
    free(audio);
    cs_sequence_release(sequence);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "render") == 0)
        return render_command(argv);
    if (argc != 3 || strcmp(argv[1], "checks") != 0) {
        fprintf(stderr, "usage: capi_test checks REPO | render SEQUENCE RECORDINGS RATE ENCODING MODE FRAME OUT\n");
        return 64;
    }
    snprintf(repo, sizeof repo, "%s", argv[2]);
    check(strcmp(cs_version(), CS_VERSION_STRING) == 0 && strcmp(cs_version(), "0.2.0") == 0,
          "cs_version() is 0.2.0, as the header's CS_VERSION_STRING", "%s", cs_version());
    bad_input();
    playback();
    threads();
    calls();
    printf("capi_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
