/* callsequence.h: the C API of CallSequence (libcallsequence), for C and C++ media servers.
 *
 * CallSequence plays telephony call sequences (DTMF digits, recordings, SMS steps) and IVR menus on a
 * live call, frame by frame, on the host's own real-time thread. The library has no threads, timers or
 * global state of its own (except the optional log handler); RTP, SIP and sending texts stay with the
 * host.
 *
 * Objects (opaque handles):
 *   cs_sequence   a compiled sequence: immutable, shared by every call and thread, reference counted
 *   cs_player     one call's playback of a sequence (one thread at a time)
 *   cs_account    an account (DIDs, IVRs, sequences, recordings) compiled for one call format: shared
 *   cs_call       an IVR session on one call: caller audio and key presses in, audio and events out
 *   cs_detector   the DTMF receiver on its own
 *
 * Conventions:
 *   - Constructors take a `cs_error **error` (may be NULL); on failure they return NULL and, when
 *     `error` is not NULL, store an error object the caller frees with cs_error_free(). On success
 *     they store NULL there. Its message is one line, naming the file or the JSON path.
 *   - Every argument is checked: a NULL pointer, a length or count out of range, an enum value out of
 *     range, a string that is not UTF-8 is an error code, never a crash. Calls that return no error
 *     object (render, press, process) record a status on their handle: cs_player_status() and friends.
 *   - Rendering, pressing and processing allocate nothing, take no lock, do no I/O and never log:
 *     they are safe on a real-time media thread. Compiling and loading do all of that: call them
 *     elsewhere (at start-up, or when an account changes).
 *   - Samples are in the call's encoding: int16_t (host byte order) for CS_PCM16, one byte per sample
 *     for CS_ULAW and CS_ALAW (G.711, bit-exact with spandsp and Asterisk).
 *   - Strings are UTF-8 and NUL-terminated; paths and numbers are at most 4096 bytes.
 *
 * Build: cc host.c $(pkg-config --cflags --libs callsequence)
 */

#ifndef CALLSEQUENCE_H
#define CALLSEQUENCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CS_API __attribute__((visibility("default")))
#else
#define CS_API
#endif

/* ---- Version ------------------------------------------------------------------------------------- */

/* The version this header belongs to (semantic versioning: the ABI changes only with the major). */
#define CS_VERSION_MAJOR 0
#define CS_VERSION_MINOR 2
#define CS_VERSION_PATCH 0
#define CS_VERSION_STRING "0.2.0"

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH" (static storage). */
CS_API const char *cs_version(void);

/* ---- Errors and status codes --------------------------------------------------------------------- */

/* What went wrong. Calls that succeed leave CS_OK. */
typedef enum {
    CS_OK = 0,
    CS_ERR_NULL = 1,           /* a required pointer argument is NULL */
    CS_ERR_ARGUMENT = 2,       /* a value out of range: count or max_events 0, an enum value, a sample rate,
                                  a character that is not a DTMF digit, a string that is not UTF-8 or too long,
                                  a misaligned int16_t buffer */
    CS_ERR_NOT_FOUND = 3,      /* a file or folder that does not exist; a number that is not the account's */
    CS_ERR_SYNTAX = 4,         /* malformed JSON (the message gives line and column) */
    CS_ERR_INVALID = 5,        /* JSON that breaks a rule of the format (the message gives each JSON path) */
    CS_ERR_RECORDING = 6,      /* a recording that cannot be read, decoded or prepared */
    CS_ERR_IO = 7,             /* a file that exists but cannot be read */
    CS_ERR_EVENTS_PENDING = 8  /* nothing rendered: more than CS_EVENTS_PENDING_LIMIT events wait to be
                                  collected (see cs_player_render) */
} cs_status;

/* A short, static description of a status code ("invalid argument"); never NULL. */
CS_API const char *cs_status_string(int status);

/* An error: a status code and a one-line message. NULL means success. */
typedef struct cs_error cs_error;

/* The error's message: one line naming the file or the JSON path, e.g.
 * "door.json: steps[1].digits: 'z' at position 3 is not a DTMF digit (allowed: 0-9 * # A-D, w, W)".
 * Owned by the error; "success" for NULL. */
CS_API const char *cs_error_message(const cs_error *e);

/* The error's status code (cs_status); CS_OK for NULL. */
CS_API int cs_error_code(const cs_error *e);

/* Frees an error. NULL is allowed. */
CS_API void cs_error_free(cs_error *e);

/* ---- Logging ------------------------------------------------------------------------------------- */

/* Log levels, most severe first (syslog's order). */
typedef enum { CS_LOG_ERROR = 0, CS_LOG_WARNING = 1, CS_LOG_INFO = 2, CS_LOG_DEBUG = 3 } cs_log_level;

/* Routes the library's messages into the host's logger. The handler is called on the thread that
 * compiles or loads (never from a render call), with a one-line message valid during the call only.
 * NULL turns logging off (the default: the library prints nothing). Process-wide; thread-safe. */
CS_API void cs_set_log_handler(void (*handler)(int level, const char *message, void *user), void *user);

/* ---- Call format --------------------------------------------------------------------------------- */

typedef enum { CS_PCM16 = 0, CS_ULAW = 1, CS_ALAW = 2 } cs_encoding;

/* How DTMF steps are sent: as audio tones, as RFC 4733 telephone-events only (the audio is silent
 * while a digit is sent), or both. */
typedef enum { CS_DTMF_INBAND = 0, CS_DTMF_RFC4733 = 1, CS_DTMF_BOTH = 2 } cs_dtmf_mode;

/* The call's format. sample_rate: 8000...48000 Hz. */
typedef struct {
    int sample_rate;
    cs_encoding encoding;
    cs_dtmf_mode dtmf_mode;
} cs_format;

/* ---- Events -------------------------------------------------------------------------------------- */

typedef enum {
    CS_EVENT_STEP_STARTED = 1,      /* step (and sequence, in a call) */
    CS_EVENT_STEP_FINISHED = 2,     /* step (and sequence) */
    CS_EVENT_SMS_REQUESTED = 3,     /* step (and sequence): fetch the text with cs_sequence_sms or
                                       cs_account_sms and send it off the audio thread */
    CS_EVENT_TELEPHONE_EVENT = 4,   /* RFC 4733 state at `sample`, the end of this frame's part of the tone:
                                       digit, duration (samples so far; the event's RTP timestamp is
                                       sample - duration from the call's start), ended, volume (0...63,
                                       meaning 0 to -63 dBm0). Only in the rfc4733 and both modes. */
    CS_EVENT_FINISHED = 5,          /* a player: the sequence is over (cancelled: by cs_player_cancel);
                                       a call: the call is over (reason: cs_end_reason; cancelled: the
                                       caller hung up) */
    CS_EVENT_DIGIT = 6,             /* a digit the caller pressed (heard in caller_audio or given to
                                       cs_call_press); from a detector: a digit began (ended 0) or ended
                                       (ended 1, duration in samples), sample = its first sample */
    CS_EVENT_MENU_STARTED = 7,      /* a call: IVR `ivr` (index in the account) starts its menu, play 1, 2...*/
    CS_EVENT_INVALID_OPTION = 8,    /* a call: `digit` is not an option of IVR `ivr` */
    CS_EVENT_TIMED_OUT = 9,         /* a call: no digit within IVR `ivr`'s timeout */
    CS_EVENT_SEQUENCE_STARTED = 10, /* a call: sequence `sequence` (index in the account) starts */
    CS_EVENT_SEQUENCE_FINISHED = 11 /* a call: sequence `sequence` is over */
} cs_event_kind;

/* Why a call ended (cs_event.reason of CS_EVENT_FINISHED from a call). */
typedef enum {
    CS_END_NONE = 0,               /* (not a call's end) */
    CS_END_ROUTE_HANGUP = 1,       /* the number routes to "hangup" */
    CS_END_HANGUP_OPTION = 2,      /* the caller chose an option that hangs up */
    CS_END_NO_CHOICE = 3,          /* no valid digit after every play of the menu */
    CS_END_SEQUENCE_FINISHED = 4,  /* the chosen sequence finished */
    CS_END_CALLER_HUNG_UP = 5      /* cs_call_hangup */
} cs_end_reason;

/* Something that happened in a frame. Fields a kind does not use are 0 (sequence and ivr: -1). */
typedef struct {
    cs_event_kind kind;
    int step;         /* step index in its sequence (0-based) */
    int64_t sample;   /* the sample of the call (or stream) where it happened */
    int offset;       /* its offset in this frame, 0...count (events from an earlier frame, kept because
                         max_events was full: 0) */
    char digit;       /* '0'-'9', '*', '#', 'A'-'D' */
    int duration;     /* samples */
    int ended;        /* 0 or 1 */
    int volume;       /* 0...63 (-dBm0) */
    int cancelled;    /* 0 or 1 */
    /* Events of IVR calls: */
    int sequence;     /* the account's sequence index of a step, SMS, tone or sequence event; -1 */
    int ivr;          /* the account's IVR index of a menu, invalid-option or timeout event; -1 */
    int play;         /* CS_EVENT_MENU_STARTED: 1 for the first play of the menu, 2 for the next... */
    int reason;       /* CS_EVENT_FINISHED of a call: cs_end_reason */
} cs_event;

/* Events a frame produces are handed out in the caller's `events` array, up to `max_events`; the rest
 * stay in the handle's queue and come first in the next call, never dropped. The queue holds every event
 * one call can produce plus CS_EVENTS_PENDING_LIMIT: while more than that many wait, render and process
 * calls only hand out events (status CS_ERR_EVENTS_PENDING) until the host has collected them. */
#define CS_EVENTS_PENDING_LIMIT 64

/* ---- Sequences ----------------------------------------------------------------------------------- */

typedef struct cs_sequence cs_sequence;

/* Compiles a sequence file (JSON, as `callseq render` reads it) for calls of `format`: DTMF tones are
 * synthesised, recordings decoded, resampled and encoded once, into one immutable program that any number
 * of players on any threads play at once. recordings_dir: the account's recordings folder, or NULL (then
 * only the recordings "none" and "default" exist). Returns a sequence holding one reference
 * (cs_sequence_release), or NULL with *error set. Allocates, reads files, may log: not for the audio thread. */
CS_API cs_sequence *cs_sequence_compile_file(const char *path, const char *recordings_dir,
                                             const cs_format *format, cs_error **error);

/* The same from JSON text in memory: `length` bytes of UTF-8 at `json` (at most 16 MiB; no NUL needed).
 * Messages name the source "sequence". */
CS_API cs_sequence *cs_sequence_compile(const char *json, size_t length, const char *recordings_dir,
                                        const cs_format *format, cs_error **error);

/* Adds a reference (for another owner). Returns s. */
CS_API cs_sequence *cs_sequence_retain(cs_sequence *s);

/* Drops the host's reference. Players made from the sequence keep it alive until they are freed. NULL is
 * allowed. */
CS_API void cs_sequence_release(cs_sequence *s);

/* The sequence's name (owned by the sequence), or NULL for NULL. */
CS_API const char *cs_sequence_name(const cs_sequence *s);

/* Its number of steps; its length in samples (-1 for NULL). */
CS_API int cs_sequence_step_count(const cs_sequence *s);
CS_API int64_t cs_sequence_samples(const cs_sequence *s);

/* The text of SMS step `step` (as CS_EVENT_SMS_REQUESTED reports it): from and to as 10 digits, message
 * in UTF-8, all owned by the sequence. Any of from/to/message may be NULL. Returns CS_OK, CS_ERR_NULL, or
 * CS_ERR_ARGUMENT when `step` is not an SMS step. */
CS_API int cs_sequence_sms(const cs_sequence *s, int step, const char **from, const char **to,
                           const char **message);

/* ---- Players ------------------------------------------------------------------------------------- */

typedef struct cs_player cs_player;

/* A player for one call: a few hundred bytes plus its event queue; the audio stays in the sequence, which
 * the player keeps alive. NULL if s is NULL. */
CS_API cs_player *cs_player_new(cs_sequence *s);

/* Renders the next `count` samples of the call into `samples` (int16_t for CS_PCM16, bytes for G.711;
 * an int16_t buffer must be 2-byte aligned), silence after the end, and hands out this frame's events.
 * Any count works (1...16777216); step boundaries fall anywhere in a frame; the bytes are the same whatever
 * the frame sizes. events: room for max_events (>= 1) events; *event_count: how many were stored (the rest
 * wait in the queue, see CS_EVENTS_PENDING_LIMIT). Returns count, or 0 when nothing was rendered: an
 * invalid argument, or CS_ERR_EVENTS_PENDING (see cs_player_status). No allocation, lock or I/O. */
CS_API size_t cs_player_render(cs_player *p, void *samples, size_t count,
                               cs_event *events, size_t max_events, size_t *event_count);

/* The status of the player's last render (CS_OK or the reason it rendered nothing) and, when `message`
 * is not NULL, a one-line static description. CS_ERR_NULL for NULL. */
CS_API int cs_player_status(const cs_player *p, const char **message);

/* Whether the player has handed the host its CS_EVENT_FINISHED (none waits in the queue): 1 or 0 (1 for
 * NULL). A host that reads its events can stop at that event instead, and spare a call a frame. */
CS_API int cs_player_is_finished(const cs_player *p);

/* Stops the sequence (the caller hung up): the next render is silent and reports CS_EVENT_FINISHED with
 * cancelled = 1. From the rendering thread, or between renders. NULL is allowed. */
CS_API void cs_player_cancel(cs_player *p);

/* Frees the player (and drops its reference to the sequence). NULL is allowed. */
CS_API void cs_player_free(cs_player *p);

/* ---- Accounts and IVR calls ---------------------------------------------------------------------- */

typedef struct cs_account cs_account;

/* Loads an account file (DIDs, IVRs, sequences; the recordings folder it names is relative to the file)
 * for `format`; its prompts and sequences are compiled when a call first reaches them (cs_call_new). Returns an account holding one reference, or NULL
 * with *error set (every validation problem, each with its JSON path, on one line separated by "; ").
 * Allocates, reads files, may log: not for the audio thread. */
CS_API cs_account *cs_account_load(const char *path, const cs_format *format, cs_error **error);

/* Adds a reference; returns a. */
CS_API cs_account *cs_account_retain(cs_account *a);

/* Drops the host's reference; calls keep the account alive until they are freed. NULL is allowed. */
CS_API void cs_account_release(cs_account *a);

/* The text of SMS step `step` of the account's sequence `sequence` (as a call's CS_EVENT_SMS_REQUESTED
 * reports them); strings owned by the account. Returns CS_OK, CS_ERR_NULL or CS_ERR_ARGUMENT. */
CS_API int cs_account_sms(const cs_account *a, int sequence, int step, const char **from, const char **to,
                          const char **message);

typedef struct cs_call cs_call;

/* Starts an IVR session for a call to `did`, any NANP form ("(450) 555-0123", "+14505550123"). Prepares
 * everything the call needs (the prompts and sequences its number can reach, compiled now if no call
 * reached them before and kept for later calls; one player each; the receiver's buffer), so rendering
 * allocates nothing. May decode recordings: not for the audio thread. NULL with *error set for an invalid
 * number (CS_ERR_ARGUMENT), one that is not the account's (CS_ERR_NOT_FOUND) or a recording it reaches that
 * cannot be prepared (CS_ERR_RECORDING). The call keeps the account alive. */
CS_API cs_call *cs_call_new(cs_account *a, const char *did, cs_error **error);

/* A digit the caller sent as an RFC 4733 telephone-event ('0'-'9', '*', '#', 'A'-'D', 'a'-'d'); it takes
 * effect at the next render. Another character sets the call's status to CS_ERR_ARGUMENT. */
CS_API void cs_call_press(cs_call *c, char digit);

/* The caller hung up: the next render ends the session (CS_EVENT_FINISHED, reason CS_END_CALLER_HUNG_UP). */
CS_API void cs_call_hangup(cs_call *c);

/* Renders the next `count` samples of what the caller hears (1...sample_rate: at most one second per call),
 * in the account's encoding, and hands out the frame's events like cs_player_render. caller_audio: the
 * same span of the caller's inbound audio, in the same encoding (NULL: none, e.g. when digits arrive as
 * RFC 4733 events), run through the DTMF receiver: a digit it hears is reported as CS_EVENT_DIGIT and acts
 * like cs_call_press. Returns count, or 0 when nothing was rendered (see cs_call_status). No allocation,
 * lock or I/O. */
CS_API size_t cs_call_render(cs_call *c, const void *caller_audio, void *samples, size_t count,
                             cs_event *events, size_t max_events, size_t *event_count);

/* The status of the call's last render or press, with a static one-line description. */
CS_API int cs_call_status(const cs_call *c, const char **message);

/* Whether the call is over and its CS_EVENT_FINISHED was handed to the host: 1 or 0 (1 for NULL). */
CS_API int cs_call_is_over(const cs_call *c);

/* Frees the call (and drops its reference to the account). NULL is allowed. */
CS_API void cs_call_free(cs_call *c);

/* ---- The DTMF receiver --------------------------------------------------------------------------- */

typedef struct cs_detector cs_detector;

/* A DTMF receiver (ITU-T Q.24 figures: accepts +-1.5 %, rejects +-3.5 %, tones from 40 ms, twist up to
 * 8 dB normal / 4 dB reverse, no digits from speech) for 16-bit linear audio at sample_rate (8000...48000). */
CS_API cs_detector *cs_detector_new(int sample_rate, cs_error **error);

/* Feeds `count` samples (1...sample_rate: at most one second per call) and hands out CS_EVENT_DIGIT events
 * like cs_player_render (volume: the low tone's level in -dBm0). Returns count, or 0 if nothing was processed
 * (see cs_detector_status). */
CS_API size_t cs_detector_process(cs_detector *d, const int16_t *samples, size_t count,
                                  cs_event *events, size_t max_events, size_t *event_count);

/* The status of the detector's last call, with a static one-line description. */
CS_API int cs_detector_status(const cs_detector *d, const char **message);

/* Forgets the stream so far (and events not yet collected), for a new call. */
CS_API void cs_detector_reset(cs_detector *d);

/* Frees the detector. NULL is allowed. */
CS_API void cs_detector_free(cs_detector *d);

#ifdef __cplusplus
}
#endif

#endif /* CALLSEQUENCE_H */
