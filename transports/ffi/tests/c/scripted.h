/* A scripted server in memory for the C tests: canned answers served to
 * the exchange's loop through reads of a chosen size, writes taken a
 * chosen number of bytes at a time, a simulated clock. */
#ifndef SCRIPTED_H
#define SCRIPTED_H

#include <stddef.h>
#include <stdint.h>

#include "lastline.h"

#define MAX_ANSWERS 16

typedef struct answer {
    char bytes[4096];
    size_t len;
    /* Close the connection after this many bytes (0: never). */
    size_t cut;
} answer;

typedef struct server {
    answer answers[MAX_ANSWERS];
    int n_answers;
    int next_answer;
    int serving; /* -1: none */
    size_t pos;
    size_t read_size;
    size_t write_size;
    /* Every byte the client wrote, requests one after another. */
    char sent[65536];
    size_t sent_len;
    /* The sample the client uploads from. */
    const uint8_t *sample;
    size_t sample_len;
    int connects;
    int sample_steps;
    uint64_t now_ms;
    uint64_t slept_ms;
    int events[32];
    int n_events;
    int entries;
    char last_entry[1024];
    char entry_uuids[8][33];
    int32_t entry_scores[8];
    char download[4096];
    size_t download_len;
    int restarts;
    /* Answer LL_STEP_RESTART with ll_exchange_cannot_restart. */
    int refuse_restart;
} server;

void server_init(server *s, size_t read_size, size_t write_size);
/* Queues an answer: status line and extra headers, then a body. */
void server_answer(server *s, const char *status, const char *headers, const char *body);
/* As server_answer, the connection closing after `cut` bytes. */
void server_answer_cut(server *s, const char *status, const char *headers, const char *body,
                       size_t cut);
/* Drives the operation started on `ex` to its end; returns the DONE step. */
ll_step server_drive(server *s, ll_exchange *ex);
/* How many times the client sent `line` (a request line's start, e.g.
 * "POST /authentication/login.json"). */
int server_requests(const server *s, const char *line);

#endif
