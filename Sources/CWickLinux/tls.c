// TLS for the replay client's blocking sockets, with OpenSSL: the peer's certificate is verified
// against the system's trust store or a CA file, and its name against the host the URL names.

#include "CWickLinux.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void describe(char *error, size_t size, const char *what) {
    unsigned long code = ERR_get_error();
    if (code != 0) {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof reason);
        snprintf(error, size, "%s: %s", what, reason);
    } else {
        snprintf(error, size, "%s", what);
    }
    ERR_clear_error();
}

void *CWickLinux_tls_context(const char *ca_file, char *error, size_t error_size) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) {
        describe(error, error_size, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    // Many servers close without close_notify; the response's Content-Length catches truncation.
    SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
    int loaded = ca_file != NULL ? SSL_CTX_load_verify_locations(context, ca_file, NULL)
                                 : SSL_CTX_set_default_verify_paths(context);
    if (loaded != 1) {
        char what[512];
        snprintf(what, sizeof what, "cannot load CA certificates from %s", ca_file != NULL ? ca_file : "the system's store");
        describe(error, error_size, what);
        SSL_CTX_free(context);
        return NULL;
    }
    return context;
}

void CWickLinux_tls_context_free(void *context) {
    SSL_CTX_free(context);
}

// OpenSSL writes with write(2), which raises SIGPIPE on a connection the peer closed. Blocked on
// this thread for the call, and a SIGPIPE it raised taken back, a closed peer is an error code.
typedef struct {
    sigset_t pipe;
    sigset_t old;
} quiet_pipe;

static void quiet_begin(quiet_pipe *state) {
    sigemptyset(&state->pipe);
    sigaddset(&state->pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &state->pipe, &state->old);
}

static void quiet_end(quiet_pipe *state) {
    if (!sigismember(&state->old, SIGPIPE)) {
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            sigtimedwait(&state->pipe, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &state->old, NULL);
    }
}

void *CWickLinux_tls_connect(void *context, int fd, const char *host, int *untrusted, char *error, size_t error_size) {
    *untrusted = 0;
    SSL *ssl = SSL_new(context);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        describe(error, error_size, "cannot start TLS");
        SSL_free(ssl);
        return NULL;
    }
    unsigned char address[16];
    if (inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    quiet_pipe state;
    quiet_begin(&state);
    int connected = SSL_connect(ssl);
    quiet_end(&state);
    if (connected != 1) {
        long verified = SSL_get_verify_result(ssl);
        if (verified != X509_V_OK) {
            *untrusted = 1;
            snprintf(error, error_size, "the certificate of %s is not trusted: %s", host,
                     X509_verify_cert_error_string(verified));
            ERR_clear_error();
        } else {
            describe(error, error_size, "TLS handshake failed");
        }
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

long CWickLinux_tls_write(void *ssl, const void *bytes, size_t count) {
    size_t written = 0;
    quiet_pipe state;
    quiet_begin(&state);
    int ok = SSL_write_ex(ssl, bytes, count, &written);
    quiet_end(&state);
    ERR_clear_error();
    return ok == 1 ? (long)written : -1;
}

long CWickLinux_tls_read(void *ssl, void *bytes, size_t count) {
    size_t got = 0;
    int ok = SSL_read_ex(ssl, bytes, count, &got);
    if (ok == 1) return (long)got;
    int reason = SSL_get_error(ssl, ok);
    ERR_clear_error();
    return reason == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

void CWickLinux_tls_close(void *ssl) {
    quiet_pipe state;
    quiet_begin(&state);
    SSL_shutdown(ssl);
    quiet_end(&state);
    ERR_clear_error();
    SSL_free(ssl);
}
