/* TCP through the UART relay (scripts/uart-relay.py), as a UART-attached
 * modem is driven: open ('O' id), data ('D' id len16 bytes), close
 * ('C' id); the relay answers 'o' id status, 'd' id len16 bytes, 'c' id.
 * Frames of an older connection are skipped by their id. */
#include "net.h"

#include "board.h"
#include "lastline.h"

#define FRAME 1024

static uint8_t conn_id;
static uint16_t left; /* bytes of the current data frame not read yet */
static int peer_closed;

static uint16_t get_u16(void) {
    uint16_t lo = uart_get();
    return (uint16_t)(lo | (uint16_t)(uart_get() << 8));
}

/* The next frame for the current connection: its kind, and for data
 * frames its length. */
static uint8_t frame(uint16_t *len, uint8_t *status) {
    for (;;) {
        uint8_t kind = uart_get(), of = uart_get();
        if (kind == 'o') {
            *status = uart_get();
        } else if (kind == 'd') {
            *len = get_u16();
            if (of != conn_id) {
                uint16_t i;
                for (i = 0; i < *len; i++) uart_get();
                continue;
            }
        } else if (kind != 'c') {
            return 0;
        }
        if (of == conn_id) return kind;
    }
}

uint32_t net_open(void) {
    uint16_t len = 0;
    uint8_t status = 1;
    net_close();
    conn_id++;
    left = 0;
    peer_closed = 0;
    uart_put('O');
    uart_put(conn_id);
    if (frame(&len, &status) != 'o' || status != 0) return LL_TRANSPORT_CONNECT;
    return 0;
}

size_t net_write(const uint8_t *p, size_t n) {
    size_t i;
    if (n > FRAME) n = FRAME;
    uart_put('D');
    uart_put(conn_id);
    uart_put((uint8_t)(n & 0xff));
    uart_put((uint8_t)(n >> 8));
    for (i = 0; i < n; i++) uart_put(p[i]);
    return n;
}

long net_read(uint8_t *p, size_t n) {
    size_t i;
    while (left == 0) {
        uint16_t len = 0;
        uint8_t status = 0, kind;
        if (peer_closed) return 0;
        kind = frame(&len, &status);
        if (kind == 'c') {
            peer_closed = 1;
            return 0;
        }
        if (kind != 'd') return -(long)LL_TRANSPORT_IO;
        left = len;
    }
    if (n > left) n = left;
    for (i = 0; i < n; i++) p[i] = uart_get();
    left = (uint16_t)(left - n);
    return (long)n;
}

void net_close(void) {
    if (conn_id == 0) return;
    uart_put('C');
    uart_put(conn_id);
}
