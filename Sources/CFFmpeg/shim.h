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

/// Converts `frame` with `context` into one packed plane (RGB24 or GRAY8) at `destination`, `stride` bytes a row;
/// returns the number of rows written, negative on error. Spelled here because `AVFrame.data` and `linesize` are
/// fixed-size arrays, which Swift sees as tuples.
static inline int facefind_scale_frame(struct SwsContext *context, const AVFrame *frame, uint8_t *destination,
                                       int stride) {
    uint8_t *planes[4] = { destination, NULL, NULL, NULL };
    int strides[4] = { stride, 0, 0, 0 };
    return sws_scale(context, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, planes, strides);
}
