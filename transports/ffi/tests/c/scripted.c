#include "scripted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what) {
    fprintf(stderr, "scripted server: %s\n", what);
    exit(2);
}

void server_init(server *s, size_t read_size, size_t write_size) {
    memset(s, 0, sizeof *s);
    s->serving = -1;
    s->read_size = read_size;
    s->write_size = write_size;
    s->now_ms = 1000;
}

void server_answer_cut(server *s, const char *status, const char *headers, const char *body,
                       size_t cut) {
    answer *a;
    int n;
    if (s->n_answers == MAX_ANSWERS) fail("too many answers");
    a = &s->answers[s->n_answers++];
    n = snprintf(a->bytes, sizeof a->bytes,
                 "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %u\r\n\r\n%s",
                 status, headers, (unsigned)strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof a->bytes) fail("answer too long");
    a->len = (size_t)n;
    a->cut = cut;
}

void server_answer(server *s, const char *status, const char *headers, const char *body) {
    server_answer_cut(s, status, headers, body, 0);
}

static void take_written(server *s, const uint8_t *p, size_t n) {
    if (s->sent_len + n > sizeof s->sent) fail("client wrote too much");
    memcpy(s->sent + s->sent_len, p, n);
    s->sent_len += n;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

ll_step server_drive(server *s, ll_exchange *ex) {
    ll_step st;
    int guard = 0;
    for (;;) {
        int32_t r = ll_exchange_next(ex, s->now_ms, &st);
        if (r != LL_OK) {
            fprintf(stderr, "ll_exchange_next: %s\n", ll_result_str(r));
            exit(2);
        }
        if (++guard > 1000000) fail("no end");
        switch (st.kind) {
        case LL_STEP_CONNECT:
            s->connects++;
            s->serving = -1;
            s->pos = 0;
            break;
        case LL_STEP_WRITE: {
            size_t n = min_size(st.data_len, s->write_size);
            take_written(s, st.data, n);
            if (ll_exchange_wrote(ex, n) != LL_OK) fail("wrote");
            break;
        }
        case LL_STEP_SEND_SAMPLE: {
            size_t n = (size_t)st.sample_len;
            s->sample_steps++;
            if (st.sample_offset + st.sample_len != s->sample_len) fail("sample range");
            n = min_size(n, s->write_size);
            /* Through the scratch space, as firmware reading flash does. */
            n = min_size(n, st.space_len);
            memcpy(st.space, s->sample + st.sample_offset, n);
            take_written(s, st.space, n);
            if (ll_exchange_wrote(ex, n) != LL_OK) fail("wrote sample");
            break;
        }
        case LL_STEP_READ: {
            const answer *a;
            size_t limit, n;
            if (s->serving < 0) {
                if (s->next_answer == s->n_answers) {
                    if (ll_exchange_read(ex, 0) != LL_OK) fail("read 0");
                    break;
                }
                s->serving = s->next_answer++;
                s->pos = 0;
            }
            a = &s->answers[s->serving];
            limit = a->cut ? a->cut : a->len;
            if (s->pos >= limit) {
                /* Closed mid-answer. */
                s->serving = -1;
                if (ll_exchange_read(ex, 0) != LL_OK) fail("read closed");
                break;
            }
            n = min_size(min_size(s->read_size, limit - s->pos), st.space_len);
            memcpy(st.space, a->bytes + s->pos, n);
            s->pos += n;
            if (s->pos == a->len) s->serving = -1;
            if (ll_exchange_read(ex, n) != LL_OK) fail("read");
            break;
        }
        case LL_STEP_SLEEP:
            if (st.until_ms > s->now_ms) {
                s->slept_ms += st.until_ms - s->now_ms;
                s->now_ms = st.until_ms;
            }
            break;
        case LL_STEP_EVENT:
            if (s->n_events < 32) s->events[s->n_events++] = (int)st.event;
            break;
        case LL_STEP_ENTRY:
            if (s->entries < 8) {
                memcpy(s->entry_uuids[s->entries], st.task_uuid, 33);
                s->entry_scores[s->entries] = st.has_score ? st.score : -1;
            }
            s->entries++;
            if (st.data != NULL && st.data_len < sizeof s->last_entry) {
                memcpy(s->last_entry, st.data, st.data_len);
                s->last_entry[st.data_len] = 0;
            }
            break;
        case LL_STEP_DATA:
            if (s->download_len + st.data_len > sizeof s->download) fail("download too long");
            if (st.data_len == 0) break;
            memcpy(s->download + s->download_len, st.data, st.data_len);
            s->download_len += st.data_len;
            break;
        case LL_STEP_RESTART:
            s->restarts++;
            if (s->refuse_restart) {
                if (ll_exchange_cannot_restart(ex) != LL_OK) fail("cannot_restart");
                break;
            }
            s->download_len = 0;
            break;
        case LL_STEP_DONE:
            return st;
        default:
            fail("unknown step");
        }
    }
}

int server_requests(const server *s, const char *line) {
    int n = 0;
    size_t len = strlen(line), i;
    for (i = 0; i + len <= s->sent_len; i++) {
        /* Anywhere: a form body has no line end before the next request. */
        if (memcmp(s->sent + i, line, len) == 0) n++;
    }
    return n;
}
