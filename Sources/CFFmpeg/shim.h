// FFmpeg 5.1 (Debian 12: libavformat59, libavcodec59, libswscale6, libavutil57). The helpers below stand in for
// FFmpeg's function-like macros (AVERROR, AV_NOPTS_VALUE), which Swift cannot import, and read the stream's
// display matrix (the rotation a phone records instead of rotating the pixels).
#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/macros.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static inline int facefind_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int facefind_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t facefind_nopts_value(void) { return AV_NOPTS_VALUE; }

/// The clockwise rotation in degrees (0, 90, 180 or 270) that the stream's display matrix asks for, 0 without one.
static inline int facefind_stream_rotation(const AVStream *stream) {
    size_t size = 0;
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!matrix || size < 9 * sizeof(int32_t)) return 0;
    // av_display_rotation_get gives the counter-clockwise angle in (-180, 180].
    double angle = -av_display_rotation_get((const int32_t *)matrix);
    if (angle != angle) return 0;  // NaN: a degenerate matrix
    int degrees = (int)(angle < 0 ? angle - 0.5 : angle + 0.5);
    degrees = ((degrees % 360) + 360) % 360;
    return ((degrees + 45) / 90 % 4) * 90;
}

/// FFmpeg's text for an error code.
static inline void facefind_error_string(int code, char *buffer, size_t size) { av_strerror(code, buffer, size); }

/// Extra bytes swscale may write past a row and past the last row. Its x86 output paths store whole SIMD words
/// (8 to 64 bytes) and assume FFmpeg's own frame layout: line sizes rounded up to the alignment and a padded
/// tail. Writing into a packed width*3 buffer overran it by 8 bytes at widths 202, 248, 250, 252, 330, 360, 426,
/// 1000 and 1080 (issue 25; valgrind: invalid write in sws_scale), so the scaler writes into a padded, aligned
/// buffer and the rows are copied out.
#define FACEFIND_SCALE_ALIGN 64
#define FACEFIND_SCALE_PADDING 256

/// Converts `frame` with `context` into one packed plane (RGB24 or GRAY8) of `width` x `height` pixels of
/// `bytes_per_pixel` bytes at `destination` (exactly width * bytes_per_pixel * height bytes; nothing is written
/// past it); returns the number of rows written, negative on error. The conversion goes through a scratch
/// buffer with line sizes rounded up to 64 bytes plus 64, and 256 bytes after the last row. Spelled here because
/// `AVFrame.data` and `linesize` are fixed-size arrays, which Swift sees as tuples.
static inline int facefind_scale_frame(struct SwsContext *context, const AVFrame *frame, uint8_t *destination,
                                       int width, int height, int bytes_per_pixel) {
    if (width <= 0 || height <= 0 || bytes_per_pixel <= 0 || width > (INT_MAX - 2 * FACEFIND_SCALE_ALIGN) / bytes_per_pixel)
        return AVERROR(EINVAL);
    const int row = width * bytes_per_pixel;
    const int stride = FFALIGN(row, FACEFIND_SCALE_ALIGN) + FACEFIND_SCALE_ALIGN;
    if ((size_t)stride * (size_t)height > (size_t)INT_MAX - FACEFIND_SCALE_PADDING) return AVERROR(EINVAL);
    // av_malloc aligns to 64 bytes (AVX-512) here.
    uint8_t *scratch = av_malloc((size_t)stride * (size_t)height + FACEFIND_SCALE_PADDING);
    if (!scratch) return AVERROR(ENOMEM);
    uint8_t *planes[4] = { scratch, NULL, NULL, NULL };
    int strides[4] = { stride, 0, 0, 0 };
    int rows = sws_scale(context, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, planes, strides);
    if (rows == height) {
        for (int y = 0; y < height; y++) memcpy(destination + (size_t)y * row, scratch + (size_t)y * stride, row);
    }
    av_free(scratch);
    return rows;
}

/// The most streams a container may declare before FaceFind refuses it. Opening a file costs about 1 MB per
/// stream, decoded or not (avformat_find_stream_info opens a decoder for each): a Matroska file with 1,000 copies
/// of one stream (4.8 MB) peaked at 1.54 GB; 64 streams peak at about 100 MB. Phones write 2 to 6 streams.
#define FACEFIND_MAX_STREAMS 64

/// Opens `path` with FFmpeg's demuxers, refusing more than `max_streams` streams (FFmpeg's default is 1,000).
static inline int facefind_open_input(AVFormatContext **context, const char *path, int max_streams) {
    AVDictionary *options = NULL;
    char value[16];
    snprintf(value, sizeof value, "%d", max_streams);
    av_dict_set(&options, "max_streams", value, 0);
    int status = avformat_open_input(context, path, NULL, &options);
    av_dict_free(&options);
    return status;
}

/// Whether `status` is FFmpeg's "out of memory", which is also what a container over max_streams gives.
static inline int facefind_averror_enomem(void) { return AVERROR(ENOMEM); }

/// Marks every stream but `keep` discarded, so that the demuxer drops their packets and the stream probe
/// (avformat_find_stream_info) does less for them.
static inline void facefind_discard_other_streams(AVFormatContext *context, int keep) {
    for (unsigned i = 0; i < context->nb_streams; i++) {
        if ((int)i != keep) context->streams[i]->discard = AVDISCARD_ALL;
    }
}

/// `frame`'s duration in its stream's time base (pkt_duration in FFmpeg 5.1), 0 when unknown.
static inline int64_t facefind_frame_duration(const AVFrame *frame) { return frame->pkt_duration; }
