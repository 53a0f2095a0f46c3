#define _POSIX_C_SOURCE 200809L
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "lastline.h"

struct net {
    int fd;
    int tls;
    int configured;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
};

static net NET;
static int NET_READY;

net *net_get(void) {
    if (!NET_READY) {
        NET.fd = -1;
        NET_READY = 1;
    }
    return &NET;
}

int net_pin_ca(net *n, const char *ca_pem_path) {
    static const char pers[] = "lastline-c-posix";
    mbedtls_entropy_init(&n->entropy);
    mbedtls_ctr_drbg_init(&n->drbg);
    mbedtls_x509_crt_init(&n->ca);
    mbedtls_ssl_config_init(&n->conf);
    if (mbedtls_ctr_drbg_seed(&n->drbg, mbedtls_entropy_func, &n->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) != 0)
        return -1;
    if (mbedtls_x509_crt_parse_file(&n->ca, ca_pem_path) != 0) return -1;
    if (mbedtls_ssl_config_defaults(&n->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return -1;
    /* Verification on: the pinned CA only, the name checked. */
    mbedtls_ssl_conf_authmode(&n->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&n->conf, &n->ca, NULL);
    mbedtls_ssl_conf_rng(&n->conf, mbedtls_ctr_drbg_random, &n->drbg);
    n->configured = 1;
    return 0;
}

/* mbedTLS's BIO over the socket (lwIP: altcp_tls does this itself). */
static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
    ssize_t r = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
    if (r < 0) return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)r;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
    ssize_t r = recv(*(int *)ctx, buf, len, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_TIMEOUT;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)r;
}

void net_close(net *n) {
    if (n->fd < 0) return;
    if (n->tls) {
        mbedtls_ssl_close_notify(&n->ssl);
        mbedtls_ssl_free(&n->ssl);
    }
    close(n->fd);
    n->fd = -1;
    n->tls = 0;
}

uint32_t net_open(net *n, const char *host, uint16_t port, int tls) {
    struct addrinfo hints, *res, *ai;
    char service[8];
    struct timeval timeout = {30, 0};
    int one = 1, r;
    net_close(n);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0) return LL_TRANSPORT_CONNECT;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        n->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (n->fd < 0) continue;
        if (connect(n->fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(n->fd);
        n->fd = -1;
    }
    freeaddrinfo(res);
    if (n->fd < 0) return LL_TRANSPORT_CONNECT;
    setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* A peer that stops answering is a timeout, not a hang. */
    setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(n->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (!tls) return 0;
    if (!n->configured) {
        net_close(n);
        return LL_TRANSPORT_REFUSED; /* no CA pinned: never unverified */
    }
    mbedtls_ssl_init(&n->ssl);
    n->tls = 1;
    if (mbedtls_ssl_setup(&n->ssl, &n->conf) != 0 || mbedtls_ssl_set_hostname(&n->ssl, host) != 0) {
        net_close(n);
        return LL_TRANSPORT_REFUSED;
    }
    mbedtls_ssl_set_bio(&n->ssl, &n->fd, bio_send, bio_recv, NULL);
    while ((r = mbedtls_ssl_handshake(&n->ssl)) != 0) {
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        {
            char why[128];
            mbedtls_strerror(r, why, sizeof why);
            fprintf(stderr, "TLS handshake with %s: %s\n", host, why);
        }
        net_close(n);
        /* A certificate not verified is refused for good; others retry. */
        return r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ? LL_TRANSPORT_REFUSED : LL_TRANSPORT_IO;
    }
    return 0;
}

long net_write(net *n, const uint8_t *p, size_t len) {
    if (n->tls) {
        int r;
        do r = mbedtls_ssl_write(&n->ssl, p, len);
        while (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ);
        return r > 0 ? r : -(long)LL_TRANSPORT_IO;
    } else {
        ssize_t r = send(n->fd, p, len, MSG_NOSIGNAL);
        if (r < 0) return errno == EAGAIN ? -(long)LL_TRANSPORT_TIMEOUT : -(long)LL_TRANSPORT_IO;
        return (long)r;
    }
}

long net_read(net *n, uint8_t *p, size_t len) {
    if (n->tls) {
        int r;
        do r = mbedtls_ssl_read(&n->ssl, p, len);
        while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == 0) return 0;
        if (r == MBEDTLS_ERR_SSL_TIMEOUT) return -(long)LL_TRANSPORT_TIMEOUT;
        if (r == MBEDTLS_ERR_NET_CONN_RESET) return -(long)LL_TRANSPORT_CLOSED;
        return r > 0 ? r : -(long)LL_TRANSPORT_IO;
    } else {
        ssize_t r = recv(n->fd, p, len, 0);
        if (r < 0) return errno == EAGAIN ? -(long)LL_TRANSPORT_TIMEOUT : -(long)LL_TRANSPORT_CLOSED;
        return (long)r;
    }
}
