/* lastline-c-posix: the Analyst API from C99 over POSIX sockets and
 * mbedTLS, through lastline-ffi. Hash-first submission of each file
 * (uploaded only when the server does not have it), verdicts from a
 * completion cursor persisted in a file, and a PDF report download.
 *
 *   lastline-c-posix --host H --port P --ca CA.pem --key K --token T
 *                    --cursor STATE --pdf OUT.pdf [--plain] [--no-verdicts] FILE...
 *
 * No allocation: the handles are static storage; samples are mapped and
 * written from the mapping (no copy of a sample in between). */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lastline.h"
#include "net.h"

#define MAX_FILES 16

static ll_exchange EX;
static ll_cursor CURSOR;

static uint64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_until(uint64_t until) {
    uint64_t now = now_ms();
    if (until > now) {
        struct timespec t;
        t.tv_sec = (time_t)((until - now) / 1000u);
        t.tv_nsec = (long)((until - now) % 1000u) * 1000000L;
        nanosleep(&t, NULL);
    }
}

/* Where the current operation's bytes go. */
typedef struct sink {
    const uint8_t *sample; /* SEND_SAMPLE reads from here */
    FILE *download;        /* DATA goes here */
    const char *download_path;
    void (*entry)(const ll_step *st);
} sink;

/* The loop: the exchange says what to do, the socket does it. */
static ll_step run(const sink *k) {
    net *n = net_get();
    ll_step st;
    for (;;) {
        long r;
        if (ll_exchange_next(&EX, now_ms(), &st) != LL_OK) {
            fprintf(stderr, "ll_exchange_next refused\n");
            exit(2);
        }
        switch (st.kind) {
        case LL_STEP_CONNECT: {
            uint32_t failed = net_open(n, st.host, st.port, (int)st.tls);
            if (failed) ll_exchange_failed(&EX, failed);
            break;
        }
        case LL_STEP_WRITE:
            r = net_write(n, st.data, st.data_len);
            if (r < 0) ll_exchange_failed(&EX, (uint32_t)-r);
            else ll_exchange_wrote(&EX, (size_t)r);
            break;
        case LL_STEP_SEND_SAMPLE:
            /* Straight from the mapping: the sample is never copied. */
            r = net_write(n, k->sample + st.sample_offset,
                          st.sample_len > 65536 ? 65536 : (size_t)st.sample_len);
            if (r < 0) ll_exchange_failed(&EX, (uint32_t)-r);
            else ll_exchange_wrote(&EX, (size_t)r);
            break;
        case LL_STEP_READ:
            r = net_read(n, st.space, st.space_len);
            if (r < 0) ll_exchange_failed(&EX, (uint32_t)-r);
            else ll_exchange_read(&EX, (size_t)r);
            break;
        case LL_STEP_SLEEP:
            sleep_until(st.until_ms);
            break;
        case LL_STEP_EVENT:
            if (st.event == LL_EVENT_UPLOAD) printf("  not known by hash: uploading\n");
            if (st.event == LL_EVENT_RETRY)
                printf("  retrying in %llu ms\n", (unsigned long long)st.until_ms);
            break;
        case LL_STEP_ENTRY:
            if (k->entry) k->entry(&st);
            break;
        case LL_STEP_DATA:
            if (k->download && fwrite(st.data, 1, st.data_len, k->download) != st.data_len) {
                fprintf(stderr, "cannot write the download\n");
                exit(1);
            }
            break;
        case LL_STEP_RESTART:
            if (!k->download || !freopen(k->download_path, "wb", k->download))
                ll_exchange_cannot_restart(&EX);
            break;
        case LL_STEP_DONE:
            if (!st.keep_connection) net_close(n);
            return st;
        }
    }
}

static int failed(const char *what, const ll_step *st) {
    char text[512];
    ll_error e;
    if (st->result == LL_OK) return 0;
    ll_exchange_error(&EX, &e);
    if (ll_exchange_error_text(&EX, text, sizeof text, NULL) != LL_OK) strcpy(text, "(long)");
    fprintf(stderr, "%s failed: %s (api %d, http %u, %u attempts): %s\n", what,
            ll_result_str(st->result), (int)e.api_code, (unsigned)e.http_status,
            (unsigned)e.attempts, text);
    return 1;
}

/* The tasks this run submitted, and the verdicts seen for them. */
static char TASKS[MAX_FILES][33];
static int SCORES[MAX_FILES];
static int N_TASKS;

static void on_completed(const ll_step *st) {
    int i;
    printf("  completed %s score %d\n", st->task_uuid, st->has_score ? (int)st->score : -1);
    for (i = 0; i < N_TASKS; i++)
        if (strcmp(TASKS[i], st->task_uuid) == 0) SCORES[i] = st->has_score ? (int)st->score : 0;
}

static int submit(const char *path) {
    ll_hasher h;
    ll_digests d;
    ll_param p[1];
    struct stat info;
    const uint8_t *map;
    sink k;
    ll_step st;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &info) != 0 || info.st_size == 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    map = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return 1;
    /* One hashing pass over the mapping. */
    ll_hasher_init(&h, sizeof h);
    ll_hasher_update(&h, map, (size_t)info.st_size);
    ll_hasher_finish(&h, &d);
    memset(&k, 0, sizeof k);
    k.sample = map;
    printf("%s: %llu bytes\n", path, (unsigned long long)d.len);
    p[0].name = "filename";
    p[0].value = name;
    ll_exchange_submit(&EX, &d, p, 1);
    st = run(&k);
    munmap((void *)map, (size_t)info.st_size);
    if (failed("submission", &st)) return 1;
    /* The task exists: the user learns it now, whatever follows. */
    printf("  task %s (%s)\n", st.task_uuid, st.uploaded ? "uploaded" : "known hash, no upload");
    if (N_TASKS < MAX_FILES) {
        memcpy(TASKS[N_TASKS], st.task_uuid, 33);
        SCORES[N_TASKS++] = -1;
    }
    return 0;
}

static int load_cursor(const char *path) {
    uint8_t saved[LL_CURSOR_SAVED_MAX];
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        len = fread(saved, 1, sizeof saved, f);
        fclose(f);
        if (ll_cursor_restore(&CURSOR, sizeof CURSOR, saved, len) == LL_OK) {
            printf("cursor restored from %s\n", path);
            return 0;
        }
        fprintf(stderr, "%s is not a saved cursor: starting an hour back\n", path);
    }
    return ll_cursor_init(&CURSOR, sizeof CURSOR, (int64_t)time(NULL) - 3600) != LL_OK;
}

static int save_cursor(const char *path) {
    uint8_t saved[LL_CURSOR_SAVED_MAX];
    size_t len = 0;
    char tmp[4096];
    FILE *f;
    if (ll_cursor_save(&CURSOR, saved, sizeof saved, &len) != LL_OK) return 1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f || fwrite(saved, 1, len, f) != len || fclose(f) != 0) return 1;
    return rename(tmp, path);
}

/* The score of a task the cursor had reported before (a resubmission of
 * a known file names the earlier task): get_result, its `score` read from
 * the answer's JSON. -1 when it has none yet. */
static int result_score(const char *task) {
    ll_param p[2];
    sink k;
    ll_step st;
    char json[LL_ANSWER_MAX + 1];
    const char *at;
    memset(&k, 0, sizeof k);
    p[0].name = "uuid";
    p[0].value = task;
    p[1].name = "score_only";
    p[1].value = "1";
    ll_exchange_call(&EX, LL_METHOD_GET_RESULT, p, 2, LL_FORMAT_JSON);
    st = run(&k);
    if (st.result != LL_OK) return -1;
    memcpy(json, st.data, st.data_len);
    json[st.data_len] = 0;
    at = strstr(json, "\"score\"");
    if (!at || !(at = strchr(at, ':'))) return -1;
    return atoi(at + 1);
}

static int verdicts(const char *cursor_path) {
    sink k;
    int round, i, missing = N_TASKS;
    memset(&k, 0, sizeof k);
    k.entry = on_completed;
    for (round = 0; round < 120 && missing > 0; round++) {
        ll_step st;
        ll_exchange_completed(&EX, &CURSOR, (int64_t)time(NULL));
        st = run(&k);
        if (failed("get_completed", &st)) return 1;
        if (save_cursor(cursor_path) != 0) return 1;
        if (!st.more) {
            /* Caught up: a task still without a verdict may have been
             * reported before this run (a known file's earlier task). */
            for (i = 0; i < N_TASKS; i++)
                if (SCORES[i] < 0 && (SCORES[i] = result_score(TASKS[i])) >= 0)
                    printf("  result %s score %d\n", TASKS[i], SCORES[i]);
        }
        for (missing = 0, i = 0; i < N_TASKS; i++) missing += SCORES[i] < 0;
        if (missing > 0 && !st.more) sleep_until(now_ms() + 500);
    }
    return missing > 0;
}

static int report(const char *task, const char *pdf_path) {
    ll_param p[1];
    sink k;
    ll_step st;
    memset(&k, 0, sizeof k);
    k.download_path = pdf_path;
    k.download = fopen(pdf_path, "wb");
    if (!k.download) return 1;
    p[0].name = "uuid";
    p[0].value = task;
    ll_exchange_call(&EX, LL_METHOD_GET_RESULTS, p, 1, LL_FORMAT_PDF);
    st = run(&k);
    fclose(k.download);
    if (failed("the PDF report", &st)) return 1;
    printf("report of %s saved to %s\n", task, pdf_path);
    return 0;
}

int main(int argc, char **argv) {
    ll_config cfg;
    const char *ca = NULL, *cursor_path = "lastline-cursor.bin", *pdf = NULL;
    const char *files[MAX_FILES];
    int n_files = 0, i, status = 0, want_verdicts = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.tls = 1;
    cfg.host = "localhost";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--host") == 0 && v) cfg.host = argv[++i];
        else if (strcmp(a, "--port") == 0 && v) cfg.port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(a, "--ca") == 0 && v) ca = argv[++i];
        else if (strcmp(a, "--key") == 0 && v) cfg.key = argv[++i];
        else if (strcmp(a, "--token") == 0 && v) cfg.token = argv[++i];
        else if (strcmp(a, "--cursor") == 0 && v) cursor_path = argv[++i];
        else if (strcmp(a, "--pdf") == 0 && v) pdf = argv[++i];
        else if (strcmp(a, "--plain") == 0) cfg.tls = 0;
        else if (strcmp(a, "--no-verdicts") == 0) want_verdicts = 0;
        else if (a[0] != '-' && n_files < MAX_FILES) files[n_files++] = a;
        else {
            fprintf(stderr, "usage: %s --host H --port P --ca CA.pem --key K --token T "
                            "[--cursor STATE] [--pdf OUT.pdf] [--plain] [--no-verdicts] FILE...\n", argv[0]);
            return 2;
        }
    }
    if (ll_version_number() != LL_VERSION_NUMBER) {
        fprintf(stderr, "lastline.h and the library differ\n");
        return 2;
    }
    if (cfg.tls && (!ca || net_pin_ca(net_get(), ca) != 0)) {
        fprintf(stderr, "a CA certificate to verify the server is needed (--ca)\n");
        return 2;
    }
    cfg.seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    cfg.auth = LL_AUTH_SESSION;
    if (ll_exchange_init(&EX, sizeof EX, &cfg) != LL_OK || load_cursor(cursor_path) != 0) {
        fprintf(stderr, "bad configuration\n");
        return 2;
    }
    for (i = 0; i < n_files; i++) status |= submit(files[i]);
    if (!want_verdicts) {
        net_close(net_get());
        ll_exchange_drop(&EX);
        return status;
    }
    if (status == 0 && N_TASKS > 0) status |= verdicts(cursor_path);
    for (i = 0; i < N_TASKS; i++)
        printf("verdict %s %s score %d\n", TASKS[i], SCORES[i] >= 70 ? "malicious" : "benign", SCORES[i]);
    if (status == 0 && pdf && N_TASKS > 0) status |= report(TASKS[N_TASKS - 1], pdf);
    net_close(net_get());
    ll_exchange_drop(&EX);
    ll_cursor_drop(&CURSOR);
    return status;
}
