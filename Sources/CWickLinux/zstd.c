#include "CWickLinux.h"

#include <stdlib.h>
#include <zstd.h>

int CWickLinux_unzstd(const unsigned char *input, size_t length, size_t limit, unsigned char **out, size_t *out_length) {
    ZSTD_DCtx *context = ZSTD_createDCtx();
    if (context == NULL) return -1;
    // A sender's frame header may claim any size: it only sizes the first buffer, capped by the limit.
    unsigned long long claimed = ZSTD_getFrameContentSize(input, length);
    size_t capacity = length * 4 + 4096;
    if (claimed != ZSTD_CONTENTSIZE_UNKNOWN && claimed != ZSTD_CONTENTSIZE_ERROR && claimed < limit) capacity = (size_t)claimed + 1;
    if (capacity > limit + 1) capacity = limit + 1;
    unsigned char *buffer = malloc(capacity);
    if (buffer == NULL) { ZSTD_freeDCtx(context); return -1; }
    ZSTD_inBuffer in = { input, length, 0 };
    size_t produced = 0;
    size_t status = 1;
    // Frames back to back are one body, as RFC 8878 allows; the body must end on a frame's end.
    while (in.pos < in.size || status != 0) {
        if (produced == capacity) {
            if (capacity > limit) { free(buffer); ZSTD_freeDCtx(context); return -2; }
            size_t grown = capacity * 2;
            if (grown > limit + 1) grown = limit + 1;
            unsigned char *bigger = realloc(buffer, grown);
            if (bigger == NULL) { free(buffer); ZSTD_freeDCtx(context); return -1; }
            buffer = bigger;
            capacity = grown;
        }
        ZSTD_outBuffer output = { buffer + produced, capacity - produced, 0 };
        status = ZSTD_decompressStream(context, &output, &in);
        produced += output.pos;
        if (ZSTD_isError(status)) { free(buffer); ZSTD_freeDCtx(context); return -1; }
        // No input left, room left, and the frame not ended: the body is truncated.
        if (status != 0 && in.pos == in.size && output.pos < output.size) {
            free(buffer); ZSTD_freeDCtx(context); return -1;
        }
    }
    ZSTD_freeDCtx(context);
    if (produced > limit) { free(buffer); return -2; }
    *out = buffer;
    *out_length = produced;
    return 0;
}

int CWickLinux_zstd(const unsigned char *input, size_t length, int level, unsigned char **out, size_t *out_length) {
    size_t capacity = ZSTD_compressBound(length);
    unsigned char *buffer = malloc(capacity);
    if (buffer == NULL) return -1;
    size_t written = ZSTD_compress(buffer, capacity, input, length, level);
    if (ZSTD_isError(written)) { free(buffer); return -1; }
    *out = buffer;
    *out_length = written;
    return 0;
}
