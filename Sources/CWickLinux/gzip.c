#include "CWickLinux.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int CWickLinux_gunzip(const unsigned char *input, size_t length, size_t limit, unsigned char **out, size_t *out_length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // 32 + MAX_WBITS: detect gzip or zlib headers.
    if (inflateInit2(&stream, 32 + MAX_WBITS) != Z_OK) return -1;
    size_t capacity = length * 4 + 4096;
    if (capacity > limit + 1) capacity = limit + 1;
    unsigned char *buffer = malloc(capacity);
    if (buffer == NULL) { inflateEnd(&stream); return -1; }
    stream.next_in = (unsigned char *)input;
    stream.avail_in = (uInt)length;
    size_t produced = 0;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        if (produced == capacity) {
            if (capacity > limit) { free(buffer); inflateEnd(&stream); return -2; }
            size_t grown = capacity * 2;
            if (grown > limit + 1) grown = limit + 1;
            unsigned char *bigger = realloc(buffer, grown);
            if (bigger == NULL) { free(buffer); inflateEnd(&stream); return -1; }
            buffer = bigger;
            capacity = grown;
        }
        stream.next_out = buffer + produced;
        stream.avail_out = (uInt)(capacity - produced);
        status = inflate(&stream, Z_NO_FLUSH);
        produced = capacity - stream.avail_out;
        if (status != Z_OK && status != Z_STREAM_END) { free(buffer); inflateEnd(&stream); return -1; }
        if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) { free(buffer); inflateEnd(&stream); return -1; }
    }
    inflateEnd(&stream);
    if (produced > limit) { free(buffer); return -2; }
    *out = buffer;
    *out_length = produced;
    return 0;
}

int CWickLinux_gzip(const unsigned char *input, size_t length, int level, unsigned char **out, size_t *out_length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // 16 + MAX_WBITS: a gzip header and trailer, as Content-Encoding: gzip wants.
    if (deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t capacity = deflateBound(&stream, (uLong)length);
    unsigned char *buffer = malloc(capacity);
    if (buffer == NULL) { deflateEnd(&stream); return -1; }
    stream.next_in = (unsigned char *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = buffer;
    stream.avail_out = (uInt)capacity;
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) { free(buffer); deflateEnd(&stream); return -1; }
    *out = buffer;
    *out_length = capacity - stream.avail_out;
    deflateEnd(&stream);
    return 0;
}
