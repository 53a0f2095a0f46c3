/* One TCP connection to the server, through the UART relay. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>

/* Opens a connection (closing any other): 0, or LL_TRANSPORT_CONNECT. */
uint32_t net_open(void);
/* Writes up to n bytes; returns how many (at least 1). */
size_t net_write(const uint8_t *p, size_t n);
/* Reads up to n bytes: the count, 0 when the server closed, or
 * -(LL_TRANSPORT_*). */
long net_read(uint8_t *p, size_t n);
void net_close(void);

#endif
