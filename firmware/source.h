/*
 * source.h - camera and footage frame sources behind one interface.
 *
 * Spec strings (the [camera] source setting, or lpr replay's argument):
 *   file:PATH          a video file (GStreamer decodebin) or a folder of stills
 *   gst:PIPELINE       any GStreamer pipeline (Jetson nvarguscamerasrc, RTSP,
 *                      videotestsrc); converted to grey and pulled from an appsink
 *   v4l2:/dev/videoN   a USB camera (v4l2src, mmap streaming, YUYV or MJPEG)
 *   libcamera[:N]      a Pi CSI camera: libcamera itself through the C shim
 *                      (libcamera_shim.h) when built with libcamera-dev, else
 *                      GStreamer's libcamerasrc
 * Frames are 8-bit grey (the luma plane): all the reader needs.
 */
#ifndef LPR_SOURCE_H
#define LPR_SOURCE_H

#include <stdint.h>

#include "lpr_common.h"

typedef struct lpr_frame {
    uint8_t *pixels; /* owned; free with lpr_frame_clear */
    int width, height, stride;
    int64_t pts_ms;  /* position in the footage, or time since start (live) */
    int64_t wall_ms; /* system realtime at capture (live sources); 0 for files */
    uint64_t index;  /* 0, 1, 2 ... in capture order */
} lpr_frame;

void lpr_frame_clear(lpr_frame *f);

typedef struct lpr_source lpr_source;

/* Camera settings for sources that take them (libcamera); zero: automatic. */
typedef struct lpr_source_options {
    int width, height; /* requested frame size */
    int exposure_us;   /* manual exposure: moving plates want ~1000 us or less */
    double gain;       /* manual analogue gain */
} lpr_source_options;

struct lpr_config;
/* The [camera] section of a loaded lpr.conf as source options. */
lpr_source_options lpr_source_options_from(const struct lpr_config *c);

/* Opens and starts a source (opts may be NULL). Errors are logged in one line naming the
 * input: LPR_ENOENT (no such file or device), LPR_EFORMAT (not decodable),
 * LPR_EINVAL (bad spec), LPR_EIO (pipeline failed to start). */
lpr_err lpr_source_open(const char *spec, const lpr_source_options *opts, lpr_source **out);
void lpr_source_close(lpr_source *s); /* NULL is a no-op */

/* Every check lpr_source_open makes that needs no camera time, without
 * starting anything (`lprd --check`, a reload): the spec's form, the file,
 * folder or device exists, a GStreamer pipeline parses and has its
 * elements (a missing one is named with its package). Same errors, logged
 * the same way. A libcamera camera is only known to work once opened. */
lpr_err lpr_source_check(const char *spec);

/* 1 for cameras and streams (frames may be dropped when behind), 0 for files. */
int lpr_source_is_live(const lpr_source *s);

/* Next frame. LPR_OK, LPR_ENOENT at the end of the footage, or an error
 * (corrupt or truncated data, camera gone) logged naming the input. */
lpr_err lpr_source_read(lpr_source *s, lpr_frame *out);

/* Live sources: lpr_source_read() gives up with LPR_EIO after timeout_ms
 * without a frame (0, the default: wait forever). */
void lpr_source_set_timeout(lpr_source *s, int timeout_ms);

/* Frames that could not be decoded and were skipped (folders of stills). */
int64_t lpr_source_skipped(const lpr_source *s);

#endif
