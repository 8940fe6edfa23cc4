#ifndef CWICKLINUX_H
#define CWICKLINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), as used by iSCSI, ext4 and Kafka.
/// `crc` is the running value (start with 0); the result is the finished CRC of everything fed so far.
/// Uses the SSE4.2 instruction when the CPU has it, a slice-by-8 table otherwise.
uint32_t CWickLinux_crc32c(uint32_t crc, const void *data, size_t length);

/// The same, always in software: lets tests check the two implementations against each other.
uint32_t CWickLinux_crc32c_software(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use.
int CWickLinux_crc32c_hardware(void);

/// sendmmsg(2) over `count` datagrams of the same destination, each a single buffer.
/// Returns the number of datagrams sent, or -1 with errno set.
int CWickLinux_sendmmsg_buffers(int fd, const struct sockaddr *addr, socklen_t addrlen,
                                const void *const *buffers, const size_t *lengths, unsigned int count);

/// Names the calling thread (15 bytes at most), as `top -H` and core dumps show it.
void CWickLinux_set_thread_name(const char *name);

/// recvmmsg(2) of up to `count` datagrams into consecutive slices of `buffer`, `slice` bytes each,
/// without waiting (MSG_DONTWAIT). On return, `lengths[i]` is datagram i's length and `truncated[i]`
/// is 1 when it did not fit its slice. Returns the number received, or -1 with errno set.
int CWickLinux_recvmmsg_slices(int fd, void *buffer, size_t slice, unsigned int count, size_t *lengths, int *truncated);

/// Keeps buffers of up to `bytes` in malloc's heap instead of fresh mmaps: the ingest path hands
/// batches of 64 KiB to 1 MiB from thread to thread, and mapping and faulting in new pages for each
/// one costs more than the work done on them.
void CWickLinux_keep_large_allocations(size_t bytes);

/// Sets the calling thread's nice value (Linux schedules threads separately; positive values need no
/// privilege). Returns 0 on success.
int CWickLinux_set_thread_nice(int nice);

/// Asks the kernel to SIGKILL this process when its parent dies (test helpers use it so that a killed
/// test run never leaves them behind).
void CWickLinux_die_with_parent(void);

/// Inflates a gzip (or zlib) stream of `length` bytes into a malloc'd buffer (*out, *out_length; the
/// caller frees it). Returns 0, or -1 when the input is not a valid stream, -2 when the output would
/// pass `limit` bytes.
int CWickLinux_gunzip(const unsigned char *input, size_t length, size_t limit, unsigned char **out, size_t *out_length);

/// Compresses `length` bytes as one gzip stream (level 1-9) into a malloc'd buffer the caller frees.
/// Returns 0, or -1 on failure.
int CWickLinux_gzip(const unsigned char *input, size_t length, int level, unsigned char **out, size_t *out_length);

/// The same pair for zstd (`Content-Encoding: zstd`, RFC 8878): decompresses one or more frames
/// back to back (0, -1 invalid or truncated, -2 past `limit`), and compresses as one frame.
int CWickLinux_unzstd(const unsigned char *input, size_t length, size_t limit, unsigned char **out, size_t *out_length);
int CWickLinux_zstd(const unsigned char *input, size_t length, int level, unsigned char **out, size_t *out_length);

/// Constants that Glibc's Swift overlay does not import as plain integers.
int CWickLinux_SO_RCVBUFFORCE(void);
int CWickLinux_SO_RXQ_OVFL(void);
int CWickLinux_SOCK_CLOEXEC(void);
int CWickLinux_SOCK_NONBLOCK(void);
int CWickLinux_SOCK_STREAM(void);
int CWickLinux_SOCK_DGRAM(void);

/// Starts writing back the dirty pages of `length` bytes at `offset` (sync_file_range with
/// SYNC_FILE_RANGE_WRITE: no wait, no metadata), so that a large file written in pieces reaches the
/// disk as it goes rather than in one burst at its fsync. Returns 0, or -1 with errno set.
int CWickLinux_start_writeback(int fd, int64_t offset, int64_t length);

/// Waits until the writeback of `length` bytes at `offset` is done (SYNC_FILE_RANGE_WAIT_BEFORE |
/// SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER). Returns 0, or -1 with errno set.
int CWickLinux_finish_writeback(int fd, int64_t offset, int64_t length);

/// A TLS client context (an SSL_CTX) that verifies peers against the PEM certificates in `ca_file`,
/// or the system's trust store when it is NULL; TLS 1.2 at least. NULL on failure, with why in `error`.
void *CWickLinux_tls_context(const char *ca_file, char *error, size_t error_size);

void CWickLinux_tls_context_free(void *context);

/// A TLS handshake over the connected socket `fd`, checking that the certificate names `host` (a DNS
/// name, or an IP address). The connection, or NULL with why in `error` and `*untrusted` set to 1 when
/// the certificate is what failed. SIGPIPE is never raised.
void *CWickLinux_tls_connect(void *context, int fd, const char *host, int *untrusted, char *error, size_t error_size);

/// Bytes written (all of them, on a blocking socket), or -1.
long CWickLinux_tls_write(void *connection, const void *bytes, size_t count);

/// Bytes read, 0 at the end of the stream, or -1.
long CWickLinux_tls_read(void *connection, void *bytes, size_t count);

/// Says goodbye and frees the connection (not the socket).
void CWickLinux_tls_close(void *connection);

#endif
