/* One connection to the server: a POSIX socket, with mbedTLS on it when
 * the exchange asks for TLS. Each function maps one to one onto lwIP's
 * altcp API (see README.md). */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>

typedef struct net net;

/* The connection state (static storage: no allocation here either). */
net *net_get(void);
/* Loads the CA certificate(s) the server must be signed by (PEM). */
int net_pin_ca(net *n, const char *ca_pem_path);
/* Opens a connection (closing any other); 0 on success, else the
 * LL_TRANSPORT_* failure. */
uint32_t net_open(net *n, const char *host, uint16_t port, int tls);
/* Writes up to len bytes; returns the count (> 0) or -(LL_TRANSPORT_*). */
long net_write(net *n, const uint8_t *p, size_t len);
/* Reads up to len bytes; returns the count, 0 when the peer closed, or
 * -(LL_TRANSPORT_*). */
long net_read(net *n, uint8_t *p, size_t len);
void net_close(net *n);

#endif
