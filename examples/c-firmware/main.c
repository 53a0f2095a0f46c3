/* A sensor's firmware in C: two captured files (one of them EICAR) in
 * flash, submitted hash-first through lastline-ffi (uploaded only when
 * the server answers 101), verdicts from the completion cursor, the
 * cursor persisted between pages as bytes (here in RAM standing for a
 * flash page). Bare metal: no heap, no RTOS; the I/O is the UART relay. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "lastline.h"
#include "net.h"

static const uint8_t EICAR[] =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static const uint8_t BENIGN[] = "a benign capture from the C firmware\n";

static ll_exchange EX;
static ll_cursor CURSOR;
/* Stands for the flash page the cursor is persisted in. */
static uint8_t SAVED[LL_CURSOR_SAVED_MAX];
static size_t SAVED_LEN;

static char TASKS[2][33];
static int SCORES[2] = {-1, -1};

static void say2(const char *a, const char *b) {
    char line[160];
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb >= sizeof line) lb = sizeof line - 1 - la;
    memcpy(line, a, la);
    memcpy(line + la, b, lb);
    line[la + lb] = 0;
    say(line);
}

static const char *decimal(int32_t v) {
    static char buf[12];
    char *p = buf + sizeof buf - 1;
    uint32_t u = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
    *p = 0;
    do *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) *--p = '-';
    return p;
}

static void on_entry(const ll_step *st) {
    int i;
    say2("completed ", st->task_uuid);
    for (i = 0; i < 2; i++)
        if (strcmp(TASKS[i], st->task_uuid) == 0) SCORES[i] = st->has_score ? st->score : 0;
}

/* The loop: the library says what to do, the relay does it. */
static ll_step run(const uint8_t *sample) {
    ll_step st;
    for (;;) {
        long r;
        if (ll_exchange_next(&EX, board_millis(), &st) != LL_OK) {
            say("ll_exchange_next refused");
            board_exit(0);
        }
        switch (st.kind) {
        case LL_STEP_CONNECT: {
            uint32_t failed = net_open();
            if (failed) ll_exchange_failed(&EX, failed);
            break;
        }
        case LL_STEP_WRITE:
            ll_exchange_wrote(&EX, net_write(st.data, st.data_len));
            break;
        case LL_STEP_SEND_SAMPLE:
            /* Straight from flash. */
            ll_exchange_wrote(&EX, net_write(sample + st.sample_offset, (size_t)st.sample_len));
            break;
        case LL_STEP_READ:
            r = net_read(st.space, st.space_len);
            if (r < 0) ll_exchange_failed(&EX, (uint32_t)-r);
            else ll_exchange_read(&EX, (size_t)r);
            break;
        case LL_STEP_SLEEP:
            while (board_millis() < st.until_ms) {
            }
            break;
        case LL_STEP_EVENT:
            if (st.event == LL_EVENT_UPLOAD) say("  not known by hash: uploading");
            if (st.event == LL_EVENT_RETRY) say("  retrying");
            break;
        case LL_STEP_ENTRY:
            on_entry(&st);
            break;
        case LL_STEP_DONE:
            if (!st.keep_connection) net_close();
            return st;
        default:
            break;
        }
    }
}

static int failed(const char *what, const ll_step *st) {
    char text[200];
    if (st->result == LL_OK) return 0;
    say2(what, " failed:");
    say(ll_result_str(st->result));
    if (ll_exchange_error_text(&EX, text, sizeof text, NULL) == LL_OK) say(text);
    return 1;
}

static int submit(const char *name, const uint8_t *sample, size_t len, char task[33]) {
    ll_hasher h;
    ll_digests d;
    ll_step st;
    ll_param p[1];
    ll_hasher_init(&h, sizeof h);
    ll_hasher_update(&h, sample, len);
    ll_hasher_finish(&h, &d);
    say2("submitting ", name);
    p[0].name = "filename";
    p[0].value = name;
    ll_exchange_submit(&EX, &d, p, 1);
    st = run(sample);
    if (failed("submission", &st)) return 1;
    memcpy(task, st.task_uuid, 33);
    say2(st.uploaded ? "  uploaded, task " : "  known hash, no upload, task ", task);
    return 0;
}

int main(void) {
    ll_config cfg;
    int page;
    board_init();
    if (ll_version_number() != LL_VERSION_NUMBER) return 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "emulator"; /* the relay connects to the emulator */
    cfg.port = 8642;
    cfg.key = "firmware-key";
    cfg.token = "firmware-token";
    cfg.auth = LL_AUTH_SESSION;
    cfg.seed = 0x5eed1234u; /* a device seeds this from its RNG */
    if (ll_exchange_init(&EX, sizeof EX, &cfg) != LL_OK) return 1;
    if (submit("benign.txt", BENIGN, sizeof BENIGN - 1, TASKS[0]) != 0) return 1;
    if (submit("eicar.com", EICAR, sizeof EICAR - 1, TASKS[1]) != 0) return 1;

    ll_cursor_init(&CURSOR, sizeof CURSOR, 0);
    for (page = 0; page < 200 && (SCORES[0] < 0 || SCORES[1] < 0); page++) {
        ll_step st;
        ll_exchange_completed(&EX, &CURSOR, 0);
        st = run(NULL);
        if (failed("get_completed", &st)) return 1;
        /* Persist, then go on from the persisted bytes, as after a reboot. */
        if (ll_cursor_save(&CURSOR, SAVED, sizeof SAVED, &SAVED_LEN) != LL_OK) return 1;
        ll_cursor_drop(&CURSOR);
        if (ll_cursor_restore(&CURSOR, sizeof CURSOR, SAVED, SAVED_LEN) != LL_OK) return 1;
        if (!st.more) {
            uint64_t until = board_millis() + 200;
            while (board_millis() < until) {
            }
        }
    }
    net_close();
    say2("verdict benign.txt score ", decimal(SCORES[0]));
    say2("verdict eicar.com score ", decimal(SCORES[1]));
    say2("stack peak bytes ", decimal((int32_t)board_stack_peak()));
    ll_exchange_drop(&EX);
    return SCORES[1] >= 70 && SCORES[0] >= 0 && SCORES[0] < 70 ? 0 : 1;
}
