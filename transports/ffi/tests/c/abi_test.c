/* The C ABI from C: the loop against a scripted server, and every
 * misuse the ABI promises to refuse. Built with gcc and clang,
 * -std=c99 -Wall -Wextra -Wpedantic -Werror, run under ASan+UBSan and
 * under Valgrind (scripts/ffi-c-tests.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lastline.h"
#include "scripted.h"

static int failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__,    \
                    __func__, #cond);                                                 \
            failures++;                                                               \
        }                                                                             \
    } while (0)

#define CHECK_RESULT(expr, want)                                                      \
    do {                                                                              \
        int32_t got_ = (expr);                                                        \
        if (got_ != (want)) {                                                         \
            fprintf(stderr, "%s:%d: %s: %s gave %d (%s), want %s\n", __FILE__,       \
                    __LINE__, __func__, #expr, (int)got_, ll_result_str(got_), #want); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static const char *UUID1 = "05243bb7443e4bba80a5890969102082";
static const char *UUID2 = "a8ea86b5d0d84b4bb86fedd785a9d903";

static ll_config config(uint32_t auth) {
    ll_config c;
    memset(&c, 0, sizeof c);
    c.host = "analysis.example";
    c.port = 8080;
    c.tls = 0;
    c.key = "key";
    c.token = "token";
    c.auth = auth;
    c.seed = 42;
    return c;
}

/* A handle for a test: static storage, as firmware declares it. */
static ll_exchange EX;

static void init(uint32_t auth) {
    ll_config c = config(auth);
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_OK);
}

static void test_version_macros(void) {
    CHECK(ll_version_number() == LL_VERSION_NUMBER);
    CHECK(LL_VERSION_NUMBER == LL_VERSION_MAJOR * 10000 + LL_VERSION_MINOR * 100 + LL_VERSION_PATCH);
}

static void test_ping_one_byte_reads_and_partial_writes(void) {
    server s;
    ll_step st;
    server_init(&s, 1, 3);
    server_answer(&s, "200 OK", "", "{\"success\": 1, \"data\": \"pong\"}");
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(st.data_len == 6 && memcmp(st.data, "\"pong\"", 6) == 0);
    CHECK(st.keep_connection == 1);
    CHECK(server_requests(&s, "GET /authentication/ping.json HTTP/1.1") == 1);
    CHECK(strstr(s.sent, "Authorization: Basic ") != NULL);
    CHECK(s.connects == 1);
    CHECK_RESULT(ll_exchange_drop(&EX), LL_OK);
}

static void test_call_with_params_and_entries(void) {
    server s;
    ll_step st;
    ll_param p[2];
    server_init(&s, 7, 1024);
    server_answer(&s, "200 OK", "",
                  "{\"success\": 1, \"data\": {\"analysis_tags\": [{\"tag\": \"a\"}, {\"tag\": \"b\\u001b[2J\"}],"
                  " \"extra\": {\"k\": [1, 2]}}}");
    init(LL_AUTH_BASIC);
    p[0].name = "uuid";
    p[0].value = UUID1;
    p[1].name = "allow_datacenter_redirect";
    p[1].value = "0";
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_ANALYSIS_TAGS, p, 2, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(s.entries == 2);
    /* The server's JSON, escapes as sent: no control byte reaches C. */
    CHECK(strcmp(s.last_entry, "{\"tag\": \"b\\u001b[2J\"}") == 0);
    CHECK(st.data_len == strlen("{\"extra\":{\"k\": [1, 2]}}"));
    CHECK(memcmp(st.data, "{\"extra\":{\"k\": [1, 2]}}", st.data_len) == 0);
    CHECK(strstr(s.sent, "GET /analysis/get_analysis_tags.json?uuid=05243bb7443e4bba80a5890969102082&allow_datacenter_redirect=0 ") != NULL);
    ll_exchange_drop(&EX);
}

static void test_invalid_params_are_refused_before_sending(void) {
    ll_param p[1];
    ll_error e;
    char text[256];
    size_t needed = 0;
    init(LL_AUTH_BASIC);
    p[0].name = "url";
    p[0].value = "http://x";
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_PROGRESS, p, 1, LL_FORMAT_JSON), LL_ERR_INVALID_PARAM);
    CHECK_RESULT(ll_exchange_error(&EX, &e), LL_OK);
    CHECK(e.result == LL_ERR_INVALID_PARAM && e.attempts == 0 && e.http_status == 0);
    CHECK_RESULT(ll_exchange_error_text(&EX, text, sizeof text, &needed), LL_OK);
    CHECK(needed == strlen(text) && e.text_len == needed);
    CHECK(strstr(text, "name") != NULL);
    p[0].name = "uuid";
    p[0].value = "a\r\nHost: evil";
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_PROGRESS, p, 1, LL_FORMAT_JSON), LL_ERR_INVALID_PARAM);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_COUNT, NULL, 0, LL_FORMAT_JSON), LL_ERR_INVALID_PARAM);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, 99), LL_ERR_INVALID_PARAM);
    p[0].name = "file";
    p[0].value = "MZ";
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_SUBMIT_FILE, p, 1, LL_FORMAT_JSON), LL_ERR_INVALID_PARAM);
    /* Nothing runs: next has nothing to answer. */
    {
        ll_step st;
        CHECK_RESULT(ll_exchange_next(&EX, 0, &st), LL_ERR_STATE);
    }
    ll_exchange_drop(&EX);
}

static void test_closed_mid_answer_is_retried(void) {
    server s;
    ll_step st;
    const char *ok = "{\"success\": 1, \"data\": \"pong\"}";
    server_init(&s, 5, 4096);
    server_answer_cut(&s, "200 OK", "", ok, 40);
    server_answer(&s, "200 OK", "", ok);
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(s.connects == 2);
    CHECK(server_requests(&s, "GET /authentication/ping.json") == 2);
    CHECK(s.n_events >= 1 && s.events[0] == LL_EVENT_RETRY);
    ll_exchange_drop(&EX);
}

static void test_session_expiry_logs_in_again(void) {
    server s;
    ll_step st;
    const char *cookie = "Set-Cookie: session=s1; Path=/\r\n";
    server_init(&s, 64, 4096);
    server_answer(&s, "200 OK", cookie, "{\"success\": 1, \"data\": \"success\"}");
    server_answer(&s, "200 OK", "", "{\"success\": 1, \"data\": \"pong\"}");
    server_answer(&s, "200 OK", "", "{\"success\": 0, \"error_code\": 122, \"error\": \"session expired\"}");
    server_answer(&s, "200 OK", cookie, "{\"success\": 1, \"data\": \"success\"}");
    server_answer(&s, "200 OK", "", "{\"success\": 1, \"data\": \"pong\"}");
    init(LL_AUTH_SESSION);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(server_requests(&s, "POST /authentication/login.json") == 1);
    /* The session is kept across operations; 122 logs in once more. */
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(server_requests(&s, "POST /authentication/login.json") == 2);
    CHECK(server_requests(&s, "GET /authentication/ping.json") == 3);
    {
        int i, relogin = 0;
        for (i = 0; i < s.n_events; i++) relogin += s.events[i] == LL_EVENT_RELOGIN;
        CHECK(relogin == 1);
    }
    CHECK(strstr(s.sent, "Cookie: session=s1") != NULL);
    ll_exchange_drop(&EX);
}

static void test_busy_answers_wait_on_the_callers_clock(void) {
    server s;
    ll_step st;
    uint64_t start;
    server_init(&s, 4096, 4096);
    server_answer(&s, "200 OK", "", "{\"success\": 0, \"error_code\": 107, \"error\": \"busy\"}");
    server_answer(&s, "429 Too Many Requests", "Retry-After: 3\r\n", "{\"success\": 0, \"error\": \"slow down\"}");
    server_answer(&s, "200 OK", "", "{\"success\": 1, \"data\": \"pong\"}");
    init(LL_AUTH_BASIC);
    start = s.now_ms;
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(server_requests(&s, "GET /authentication/ping.json") == 3);
    /* Slept on the clock given to ll_exchange_next: the 429's Retry-After
     * of 3 s at least, and some time for the 107. */
    CHECK(s.slept_ms >= 3000);
    CHECK(s.now_ms - start == s.slept_ms);
    ll_exchange_drop(&EX);
}

static void test_retries_end_with_the_whole_failure(void) {
    server s;
    ll_step st;
    ll_error e;
    char text[512];
    int i;
    ll_config c = config(LL_AUTH_BASIC);
    server_init(&s, 4096, 4096);
    for (i = 0; i < 3; i++)
        server_answer(&s, "200 OK", "", "{\"success\": 0, \"error_code\": 107, \"error\": \"busy\\u0007 now\"}");
    c.max_attempts = 3;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_OK);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_ERR_API);
    CHECK_RESULT(ll_exchange_error(&EX, &e), LL_OK);
    CHECK(e.api_code == 107 && e.http_status == 200 && e.attempts == 3);
    CHECK_RESULT(ll_exchange_error_text(&EX, text, sizeof text, NULL), LL_OK);
    /* The server's words, its control character escaped. */
    CHECK(strstr(text, "busy\\x07 now") != NULL);
    for (i = 0; text[i]; i++) CHECK((unsigned char)text[i] >= 0x20);
    ll_exchange_drop(&EX);
}

static void test_error_text_into_a_short_buffer(void) {
    server s;
    ll_step st;
    char small[8], exact[256];
    size_t needed = 0;
    memset(small, 'x', sizeof small);
    server_init(&s, 4096, 4096);
    server_answer(&s, "404 Not Found", "", "{\"success\": 0, \"error_code\": 115, \"error\": \"no such task\"}");
    init(LL_AUTH_BASIC);
    {
        ll_param p[1];
        p[0].name = "uuid";
        p[0].value = UUID1;
        CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_PROGRESS, p, 1, LL_FORMAT_JSON), LL_OK);
    }
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_ERR_API);
    CHECK_RESULT(ll_exchange_error_text(&EX, small, sizeof small, &needed), LL_ERR_BUFFER_TOO_SMALL);
    CHECK(small[0] == 0 && small[1] == 'x');
    CHECK(needed > sizeof small);
    CHECK_RESULT(ll_exchange_error_text(&EX, exact, needed, NULL), LL_ERR_BUFFER_TOO_SMALL);
    CHECK_RESULT(ll_exchange_error_text(&EX, exact, needed + 1, NULL), LL_OK);
    CHECK(strlen(exact) == needed);
    CHECK_RESULT(ll_exchange_error_text(&EX, exact, 0, &needed), LL_ERR_BUFFER_TOO_SMALL);
    ll_exchange_drop(&EX);
}

static void test_redirect_is_followed(void) {
    server s;
    ll_step st;
    server_init(&s, 4096, 4096);
    server_answer(&s, "302 Found", "Location: /v2/authentication/ping.json\r\n", "");
    server_answer(&s, "200 OK", "", "{\"success\": 1, \"data\": \"pong\"}");
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(server_requests(&s, "GET /v2/authentication/ping.json") == 1);
    CHECK(s.n_events >= 1 && s.events[0] == LL_EVENT_REDIRECT);
    ll_exchange_drop(&EX);
}

static void test_hash_first_uploads_only_on_101(void) {
    static const uint8_t sample[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    ll_hasher h;
    ll_digests d;
    server s;
    ll_step st;
    char answer[128];
    server_init(&s, 4096, 10);
    s.sample = sample;
    s.sample_len = sizeof sample - 1;
    CHECK_RESULT(ll_hasher_init(&h, sizeof h), LL_OK);
    CHECK_RESULT(ll_hasher_update(&h, sample, 10), LL_OK);
    CHECK_RESULT(ll_hasher_update(&h, sample + 10, sizeof sample - 11), LL_OK);
    CHECK_RESULT(ll_hasher_finish(&h, &d), LL_OK);
    CHECK(d.len == sizeof sample - 1 && d.has == (LL_DIGEST_MD5 | LL_DIGEST_SHA1 | LL_DIGEST_SHA256));
    /* EICAR's well-known MD5: 44d88612fea8a8f36de82e1278abb02f. */
    CHECK(d.md5[0] == 0x44 && d.md5[1] == 0xd8 && d.md5[15] == 0x2f);
    CHECK_RESULT(ll_hasher_update(&h, sample, 1), LL_ERR_NOT_INITIALISED);

    server_answer(&s, "200 OK", "", "{\"success\": 0, \"error_code\": 101, \"error\": \"upload the file\"}");
    sprintf(answer, "{\"success\": 1, \"data\": {\"task_uuid\": \"%s\"}}", UUID1);
    server_answer(&s, "200 OK", "", answer);
    init(LL_AUTH_BASIC);
    {
        ll_param p[2];
        p[0].name = "filename";
        p[0].value = "eicar.com";
        p[1].name = "analysis_timeout";
        p[1].value = "120";
        CHECK_RESULT(ll_exchange_submit(&EX, &d, p, 2), LL_OK);
    }
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(st.uploaded == 1);
    CHECK(strcmp(st.task_uuid, UUID1) == 0);
    CHECK(server_requests(&s, "POST /analysis/submit/file.json") == 2);
    CHECK(s.sample_steps >= 7); /* 68 bytes, 10 at a time */
    CHECK(strstr(s.sent, "md5=44d88612fea8a8f36de82e1278abb02f") != NULL);
    /* The caller's parameters in both requests; the flow's score default. */
    CHECK(strstr(s.sent, "analysis_timeout=120") != NULL);
    CHECK(strstr(s.sent, "full_report_score=-1") != NULL);
    CHECK(strstr(s.sent, "name=\"analysis_timeout\"") != NULL);
    CHECK(strstr(s.sent, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE") != NULL);
    CHECK(s.events[0] == LL_EVENT_UPLOAD);

    /* Known to the server: no upload. */
    server_init(&s, 4096, 4096);
    sprintf(answer, "{\"success\": 1, \"data\": {\"task_uuid\": \"%s\"}}", UUID2);
    server_answer(&s, "200 OK", "", answer);
    {
        /* The digests are the flow's: one given as a parameter too is
         * refused before anything is sent, as is the sample itself. */
        ll_param p[1];
        p[0].name = "md5";
        p[0].value = "44d88612fea8a8f36de82e1278abb02f";
        CHECK_RESULT(ll_exchange_submit(&EX, &d, p, 1), LL_ERR_INVALID_PARAM);
        p[0].name = "file";
        CHECK_RESULT(ll_exchange_submit(&EX, &d, p, 1), LL_ERR_INVALID_PARAM);
    }
    CHECK_RESULT(ll_exchange_submit(&EX, &d, NULL, 0), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(st.uploaded == 0 && strcmp(st.task_uuid, UUID2) == 0);
    CHECK(s.sample_steps == 0);
    ll_exchange_drop(&EX);
}

static void test_cursor_pages_saved_and_restored(void) {
    ll_cursor c, back;
    server s;
    ll_step st;
    char page[512];
    uint8_t saved[LL_CURSOR_SAVED_MAX];
    size_t saved_len = 0;
    int64_t after = 0;
    server_init(&s, 13, 4096);
    sprintf(page,
            "{\"success\": 1, \"data\": {\"tasks\": {\"%s\": 70, \"%s\": 0}, \"after\": \"2026-12-01 00:00:00\","
            " \"before\": \"2026-12-07 10:00:00\", \"resume\": \"2026-12-07 10:00:01\","
            " \"more_results_available\": 1}}",
            UUID1, UUID2);
    server_answer(&s, "200 OK", "", page);
    server_answer(&s, "200 OK", "", page);
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_cursor_init(&c, sizeof c, 1764547200), LL_OK); /* 2025-12-01 */
    CHECK_RESULT(ll_exchange_completed(&EX, &c, 0), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(st.more == 1);
    CHECK(s.entries == 2);
    CHECK(strcmp(s.entry_uuids[0], UUID1) == 0 && s.entry_scores[0] == 70);
    CHECK(strcmp(s.entry_uuids[1], UUID2) == 0 && s.entry_scores[1] == 0);
    CHECK(strstr(s.sent, "after=2025-12-01+00%3A00%3A00") != NULL);
    CHECK_RESULT(ll_cursor_after(&c, &after), LL_OK);
    CHECK(after == 1796637601); /* 2026-12-07 10:00:01 */
    CHECK_RESULT(ll_cursor_save(&c, saved, sizeof saved, &saved_len), LL_OK);
    CHECK_RESULT(ll_cursor_save(&c, saved, 3, &saved_len), LL_ERR_BUFFER_TOO_SMALL);
    CHECK_RESULT(ll_cursor_save(&c, saved, sizeof saved, &saved_len), LL_OK);
    CHECK_RESULT(ll_cursor_drop(&c), LL_OK);

    /* A restart: the persisted bytes, the same page again, nothing twice. */
    CHECK_RESULT(ll_cursor_restore(&back, sizeof back, saved, saved_len), LL_OK);
    CHECK_RESULT(ll_exchange_completed(&EX, &back, 1796637601), LL_OK);
    s.entries = 0;
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(s.entries == 0);
    CHECK(strstr(s.sent, "after=2026-12-07+10%3A00%3A01") != NULL);
    /* A cursor dropped while its page is read ends the page, not the
     * process. */
    server_init(&s, 13, 4096);
    server_answer(&s, "200 OK", "", page);
    CHECK_RESULT(ll_exchange_completed(&EX, &back, 0), LL_OK);
    ll_cursor_drop(&back);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_ERR_STATE);
    CHECK_RESULT(ll_cursor_restore(&back, sizeof back, saved, saved_len), LL_OK);
    saved[3] ^= 1;
    CHECK_RESULT(ll_cursor_restore(&c, sizeof c, saved, saved_len), LL_ERR_CURSOR);
    ll_cursor_drop(&back);
    ll_exchange_drop(&EX);
}

static void test_download(void) {
    server s;
    ll_step st;
    ll_param p[1];
    server_init(&s, 3, 4096);
    s.answers[0].len = (size_t)sprintf(s.answers[0].bytes,
                                       "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                                       "Content-Length: 9\r\n\r\n%%PDF-1.4\n");
    s.n_answers = 1;
    init(LL_AUTH_BASIC);
    p[0].name = "uuid";
    p[0].value = UUID1;
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_RESULTS, p, 1, LL_FORMAT_PDF), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(s.download_len == 9 && memcmp(s.download, "%PDF-1.4\n", 9) == 0);
    CHECK(server_requests(&s, "GET /analysis/get.pdf?uuid=") == 1);
    ll_exchange_drop(&EX);
}

/* Queues an answer given whole (head and body), cut after `cut` bytes. */
static void raw_answer(server *s, const char *bytes, size_t cut) {
    answer *a = &s->answers[s->n_answers++];
    a->len = strlen(bytes);
    memcpy(a->bytes, bytes, a->len);
    a->cut = cut;
}

static void test_download_restarts_after_a_cut(void) {
    static const char *pdf = "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                             "Content-Length: 20\r\n\r\n%PDF-1.4 0123456789\n";
    server s;
    ll_step st;
    ll_param p[1];
    ll_error e;
    p[0].name = "uuid";
    p[0].value = UUID1;
    /* Cut after the head and 5 body bytes: the sink restarts, then the
     * whole file. */
    server_init(&s, 4, 4096);
    raw_answer(&s, pdf, strlen(pdf) - 15);
    raw_answer(&s, pdf, 0);
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_RESULTS, p, 1, LL_FORMAT_PDF), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_OK);
    CHECK(s.restarts == 1);
    CHECK(s.download_len == 20 && memcmp(s.download, "%PDF-1.4 0123456789\n", 20) == 0);
    /* A sink that cannot start over ends the download. */
    server_init(&s, 4, 4096);
    s.refuse_restart = 1;
    raw_answer(&s, pdf, strlen(pdf) - 15);
    raw_answer(&s, pdf, 0);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_GET_RESULTS, p, 1, LL_FORMAT_PDF), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_ERR_RESTART);
    CHECK_RESULT(ll_exchange_error(&EX, &e), LL_OK);
    CHECK(e.result == LL_ERR_RESTART && e.http_status == 200);
    ll_exchange_drop(&EX);
}

static void test_server_errors_are_retried_then_reported(void) {
    server s;
    ll_step st;
    ll_error e;
    ll_config c = config(LL_AUTH_BASIC);
    int i;
    server_init(&s, 4096, 4096);
    for (i = 0; i < 2; i++)
        server_answer(&s, "503 Service Unavailable", "Retry-After: 1\r\n", "<html>busy</html>");
    c.max_attempts = 2;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_OK);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, LL_FORMAT_JSON), LL_OK);
    st = server_drive(&s, &EX);
    CHECK_RESULT(st.result, LL_ERR_HTTP);
    CHECK_RESULT(ll_exchange_error(&EX, &e), LL_OK);
    CHECK(e.http_status == 503 && e.attempts == 2 && e.api_code == 0);
    CHECK(s.slept_ms >= 1000);
    ll_exchange_drop(&EX);
}

static void test_null_arguments(void) {
    ll_step st;
    ll_error e;
    ll_config c = config(LL_AUTH_BASIC);
    ll_hasher h;
    ll_cursor cur;
    char buf[8];
    size_t n;
    CHECK_RESULT(ll_exchange_init(NULL, sizeof EX, &c), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, NULL), LL_ERR_NULL);
    c.host = NULL;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_ERR_NULL);
    c = config(LL_AUTH_BASIC);
    c.key = NULL;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_ERR_NULL);
    init(LL_AUTH_BASIC);
    CHECK_RESULT(ll_exchange_next(NULL, 0, &st), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_next(&EX, 0, NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_call(NULL, LL_METHOD_PING, NULL, 0, 0), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 1, 0), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_submit(&EX, NULL, NULL, 0), LL_ERR_NULL);
    {
        ll_digests d;
        memset(&d, 0, sizeof d);
        CHECK_RESULT(ll_exchange_submit(&EX, &d, NULL, 1), LL_ERR_NULL);
    }
    CHECK_RESULT(ll_exchange_completed(&EX, NULL, 0), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_wrote(NULL, 1), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_read(NULL, 1), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_failed(NULL, LL_TRANSPORT_IO), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_cannot_restart(NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_cancel(NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_error(NULL, &e), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_error(&EX, NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_error_text(&EX, NULL, 8, &n), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_error_text(NULL, buf, 8, &n), LL_ERR_NULL);
    CHECK_RESULT(ll_exchange_drop(NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_hasher_init(NULL, sizeof h), LL_ERR_NULL);
    CHECK_RESULT(ll_hasher_init(&h, sizeof h), LL_OK);
    CHECK_RESULT(ll_hasher_update(&h, NULL, 1), LL_ERR_NULL);
    CHECK_RESULT(ll_hasher_update(&h, NULL, 0), LL_OK);
    CHECK_RESULT(ll_hasher_finish(&h, NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_hasher_finish(NULL, NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_hasher_drop(&h), LL_OK);
    CHECK_RESULT(ll_cursor_init(NULL, sizeof cur, 0), LL_ERR_NULL);
    CHECK_RESULT(ll_cursor_restore(&cur, sizeof cur, NULL, 0), LL_ERR_NULL);
    CHECK_RESULT(ll_cursor_init(&cur, sizeof cur, 0), LL_OK);
    CHECK_RESULT(ll_cursor_save(&cur, NULL, 8, &n), LL_ERR_NULL);
    CHECK_RESULT(ll_cursor_save(&cur, (uint8_t *)buf, 8, NULL), LL_ERR_NULL);
    CHECK_RESULT(ll_cursor_after(&cur, NULL), LL_ERR_NULL);
    CHECK(ll_method_name(LL_METHOD_COUNT) == NULL);
    CHECK(ll_method_id(NULL) == -1);
    CHECK(ll_method_id("get_progress") == LL_METHOD_GET_PROGRESS);
    CHECK(strcmp(ll_method_name(LL_METHOD_PING), "ping") == 0);
    CHECK(strcmp(ll_result_str(12345), "unknown result") == 0);
    ll_cursor_drop(&cur);
    ll_exchange_drop(&EX);
}

static void test_handle_misuse(void) {
    static ll_exchange moved;
    ll_config c = config(LL_AUTH_BASIC);
    ll_step st;
    ll_cursor cur;
    ll_hasher h;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX - 1, &c), LL_ERR_SIZE);
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX + 8, &c), LL_ERR_SIZE);
    CHECK_RESULT(ll_cursor_init(&cur, sizeof cur / 2, 0), LL_ERR_SIZE);
    CHECK_RESULT(ll_hasher_init(&h, 1), LL_ERR_SIZE);
    /* Misaligned storage. */
    {
        static uint64_t raw[LL_HASHER_SIZE / 8 + 1];
        CHECK_RESULT(ll_hasher_init((ll_hasher *)(void *)((char *)raw + 1), sizeof h), LL_ERR_ALIGNMENT);
    }
    init(LL_AUTH_BASIC);
    /* A copy is refused: its inner references point into the original. */
    memcpy(&moved, &EX, sizeof EX);
    CHECK_RESULT(ll_exchange_next(&moved, 0, &st), LL_ERR_MOVED);
    CHECK_RESULT(ll_exchange_call(&moved, LL_METHOD_PING, NULL, 0, 0), LL_ERR_MOVED);
    /* Reports for steps not asked for. */
    CHECK_RESULT(ll_exchange_wrote(&EX, 1), LL_ERR_STATE);
    CHECK_RESULT(ll_exchange_read(&EX, 1), LL_ERR_STATE);
    CHECK_RESULT(ll_exchange_failed(&EX, LL_TRANSPORT_IO), LL_ERR_STATE);
    CHECK_RESULT(ll_exchange_cannot_restart(&EX), LL_ERR_STATE);
    CHECK_RESULT(ll_exchange_error(&EX, NULL), LL_ERR_NULL);
    /* An operation at a time; cancel ends one. */
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, 0), LL_OK);
    CHECK_RESULT(ll_exchange_call(&EX, LL_METHOD_PING, NULL, 0, 0), LL_ERR_STATE);
    CHECK_RESULT(ll_exchange_next(&EX, 0, &st), LL_OK);
    CHECK(st.kind == LL_STEP_CONNECT);
    CHECK(strcmp(st.host, "analysis.example") == 0 && st.port == 8080 && st.tls == 0);
    CHECK_RESULT(ll_exchange_next(&EX, 0, &st), LL_OK);
    CHECK(st.kind == LL_STEP_WRITE);
    CHECK_RESULT(ll_exchange_wrote(&EX, st.data_len + 1), LL_ERR_INVALID_PARAM);
    /* Asking again without reporting repeats the step. */
    {
        ll_step again;
        CHECK_RESULT(ll_exchange_next(&EX, 0, &again), LL_OK);
        CHECK(again.kind == LL_STEP_WRITE && again.data == st.data && again.data_len == st.data_len);
    }
    CHECK_RESULT(ll_exchange_failed(&EX, 77), LL_ERR_INVALID_PARAM);
    CHECK_RESULT(ll_exchange_cancel(&EX), LL_OK);
    CHECK_RESULT(ll_exchange_next(&EX, 0, &st), LL_ERR_STATE);
    /* Double drop, then use after drop. */
    CHECK_RESULT(ll_exchange_drop(&EX), LL_OK);
    CHECK_RESULT(ll_exchange_drop(&EX), LL_OK);
    CHECK_RESULT(ll_exchange_next(&EX, 0, &st), LL_ERR_NOT_INITIALISED);
    CHECK_RESULT(ll_exchange_completed(&EX, &cur, 0), LL_ERR_NOT_INITIALISED);
    /* Another handle type is not an exchange. */
    CHECK_RESULT(ll_cursor_init(&cur, sizeof cur, 0), LL_OK);
    CHECK_RESULT(ll_exchange_next((ll_exchange *)(void *)&cur, 0, &st), LL_ERR_NOT_INITIALISED);
    CHECK_RESULT(ll_cursor_drop(&cur), LL_OK);
    CHECK_RESULT(ll_cursor_drop(&cur), LL_OK);
    CHECK_RESULT(ll_hasher_drop(&h), LL_OK);
    CHECK_RESULT(ll_hasher_drop(&h), LL_OK);
    /* Configuration refused. */
    c.tls = 2;
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_ERR_INVALID_PARAM);
    c = config(7);
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_ERR_INVALID_PARAM);
    c = config(LL_AUTH_BASIC);
    c.host = "bad host";
    CHECK_RESULT(ll_exchange_init(&EX, sizeof EX, &c), LL_ERR_INVALID_PARAM);
}

int main(void) {
    test_version_macros();
    test_ping_one_byte_reads_and_partial_writes();
    test_call_with_params_and_entries();
    test_invalid_params_are_refused_before_sending();
    test_closed_mid_answer_is_retried();
    test_session_expiry_logs_in_again();
    test_busy_answers_wait_on_the_callers_clock();
    test_retries_end_with_the_whole_failure();
    test_error_text_into_a_short_buffer();
    test_redirect_is_followed();
    test_hash_first_uploads_only_on_101();
    test_cursor_pages_saved_and_restored();
    test_download();
    test_download_restarts_after_a_cut();
    test_server_errors_are_retried_then_reported();
    test_null_arguments();
    test_handle_misuse();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all C ABI checks passed\n");
    return 0;
}
