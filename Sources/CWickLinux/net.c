#include "CWickLinux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>

int CWickLinux_sendmmsg_buffers(int fd, const struct sockaddr *addr, socklen_t addrlen,
                                const void *const *buffers, const size_t *lengths, unsigned int count) {
    if (count == 0) return 0;
    if (count > 1024) count = 1024;
    struct mmsghdr msgs[1024];
    struct iovec iovs[1024];
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        iovs[i].iov_base = (void *)buffers[i];
        iovs[i].iov_len = lengths[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = (void *)addr;
        msgs[i].msg_hdr.msg_namelen = addrlen;
    }
    return sendmmsg(fd, msgs, count, 0);
}

int CWickLinux_recvmmsg_slices(int fd, void *buffer, size_t slice, unsigned int count, size_t *lengths, int *truncated) {
    if (count == 0) return 0;
    if (count > 1024) count = 1024;
    struct mmsghdr msgs[1024];
    struct iovec iovs[1024];
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        iovs[i].iov_base = (char *)buffer + (size_t)i * slice;
        iovs[i].iov_len = slice;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int received = recvmmsg(fd, msgs, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < received; i++) {
        lengths[i] = msgs[i].msg_len;
        truncated[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    return received;
}

int CWickLinux_SO_RCVBUFFORCE(void) { return SO_RCVBUFFORCE; }
int CWickLinux_SO_RXQ_OVFL(void) { return SO_RXQ_OVFL; }
int CWickLinux_SOCK_CLOEXEC(void) { return SOCK_CLOEXEC; }
int CWickLinux_SOCK_NONBLOCK(void) { return SOCK_NONBLOCK; }
int CWickLinux_SOCK_STREAM(void) { return SOCK_STREAM; }
int CWickLinux_SOCK_DGRAM(void) { return SOCK_DGRAM; }

void CWickLinux_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

void CWickLinux_keep_large_allocations(size_t bytes) {
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    mallopt(M_TRIM_THRESHOLD, (int)(bytes * 2));
}

void CWickLinux_die_with_parent(void) { prctl(PR_SET_PDEATHSIG, SIGKILL); }

int CWickLinux_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

int CWickLinux_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int CWickLinux_finish_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length,
                           SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}
