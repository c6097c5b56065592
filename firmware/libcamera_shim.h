/*
 * libcamera_shim.h - a Pi CSI camera through libcamera's C++ API, behind a
 * C interface: short manual exposure and fixed gain (moving plates blur at
 * auto exposure), YUV420 frames whose Y plane is handed out as grey.
 * Built when LPR_WITH_LIBCAMERA is on.
 */
#ifndef LPR_LIBCAMERA_SHIM_H
#define LPR_LIBCAMERA_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lpr_lc lpr_lc;

/* Opens camera 'index' (0 = first) at about width x height, exposure in
 * microseconds and analogue gain (<= 0: leave to the camera's automatic
 * control). Returns 0, or -1 with a one-line reason in err. */
int lpr_lc_open(int index, int width, int height, int exposure_us, float gain, lpr_lc **out,
                char *err, size_t errlen);

/* Copies the next frame's Y plane into a malloc'd buffer (*pixels, caller
 * frees) with *w x *h and stride *w; *ts_ns is the sensor timestamp.
 * Returns 0, 1 on timeout, -1 on error. */
int lpr_lc_read(lpr_lc *c, uint8_t **pixels, int *w, int *h, int64_t *ts_ns, int timeout_ms);

void lpr_lc_close(lpr_lc *c); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif

#endif
