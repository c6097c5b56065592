/*
 * source.c - frame sources (see source.h): GStreamer pipelines ending in an
 * appsink for video files, cameras and streams; Leptonica for folders of
 * stills.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <leptonica/allheaders.h>

#include "lpr_config.h"
#include "lpr_ocr.h"
#include "lpr_pix.h"
#include "source.h"
#ifdef LPR_WITH_LIBCAMERA
#include "libcamera_shim.h"
#endif

#define STILL_INTERVAL_MS 100 /* a folder of stills plays at 10 frames/s */

struct lpr_source {
    char spec[1024];
    int live;
    uint64_t next_index;
    int64_t skipped;
    double start_ms;
    /* GStreamer */
    GstElement *pipeline;
    GstAppSink *sink;
    int timeout_ms;      /* live: give up after this long without a frame */
    int64_t duration_ms; /* from the container, -1 unknown */
    int64_t last_pts_ms;
#ifdef LPR_WITH_LIBCAMERA
    lpr_lc *lc;
#endif
    /* folder of stills */
    char dir[1024];
    struct dirent **names;
    int nnames, pos;
};

void lpr_frame_clear(lpr_frame *f)
{
    free(f->pixels);
    memset(f, 0, sizeof *f);
}

static int filter_images(const struct dirent *d)
{
    return d->d_name[0] != '.' && lpr_image_name(d->d_name);
}

/* The first ERROR message on the bus, as one line; NULL if none. When a
 * decoder is missing (decodebin posts which before its error), the line
 * says which and the packages that have H.264/H.265 and the others. */
static char *bus_error(GstElement *pipeline, GstClockTime timeout)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    char *text = NULL, *missing = NULL;
    GstMessage *m;
    while (!text && (m = gst_bus_timed_pop_filtered(bus, timeout,
                                                    GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
            if (!missing && gst_is_missing_plugin_message(m))
                missing = gst_missing_plugin_message_get_description(m);
        } else {
            GError *err = NULL;
            gst_message_parse_error(m, &err, NULL);
            if (missing)
                text = g_strdup_printf("no GStreamer plug-in for %s (install gstreamer1.0-libav "
                                       "and gstreamer1.0-plugins-bad)",
                                       missing);
            else
                text = g_strdup(err ? err->message : "unknown error");
            g_clear_error(&err);
        }
        gst_message_unref(m);
    }
    g_free(missing);
    gst_object_unref(bus);
    return text;
}

/* An AVI's main header states its length (dwTotalFrames x
 * dwMicroSecPerFrame); avidemux, finding no index in a cut file, reports
 * only what it could scan, so the header is the one witness of a cut. */
static int64_t avi_header_duration_ms(const char *path)
{
    unsigned char h[56];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n < sizeof h || memcmp(h, "RIFF", 4) || memcmp(h + 8, "AVI ", 4) ||
        memcmp(h + 24, "avih", 4))
        return -1;
    uint32_t usec =
        (uint32_t)h[32] | (uint32_t)h[33] << 8 | (uint32_t)h[34] << 16 | (uint32_t)h[35] << 24;
    uint32_t frames =
        (uint32_t)h[48] | (uint32_t)h[49] << 8 | (uint32_t)h[50] << 16 | (uint32_t)h[51] << 24;
    if (usec == 0 || frames == 0)
        return -1;
    return (int64_t)frames * usec / 1000;
}

/* The Debian package that has a GStreamer element, for the elements the
 * project's configs and README use; NULL if not known. */
static const char *element_package(const char *element)
{
    static const struct {
        const char *prefix, *package;
    } known[] = {
        {"h264parse", "gstreamer1.0-plugins-bad"},
        {"h265parse", "gstreamer1.0-plugins-bad"},
        {"avdec_", "gstreamer1.0-libav"},
        {"rtspsrc", "gstreamer1.0-plugins-good"},
        {"rtph26", "gstreamer1.0-plugins-good"},
        {"v4l2src", "gstreamer1.0-plugins-good"},
        {"jpegdec", "gstreamer1.0-plugins-good"},
        {"avidemux", "gstreamer1.0-plugins-good"},
        {"qtdemux", "gstreamer1.0-plugins-good"},
        {"matroskademux", "gstreamer1.0-plugins-good"},
        {"multifilesrc", "gstreamer1.0-plugins-good"},
        {"libcamerasrc", "gstreamer1.0-libcamera"},
        {"nvarguscamerasrc", "the Jetson's nvidia-l4t-gstreamer"},
        {"nvv4l2decoder", "the Jetson's nvidia-l4t-gstreamer"},
        {"nvvidconv", "the Jetson's nvidia-l4t-gstreamer"},
        {"videoconvert", "gstreamer1.0-plugins-base"},
        {"appsink", "gstreamer1.0-plugins-base"},
        {"uridecodebin", "gstreamer1.0-plugins-base"},
        {"decodebin", "gstreamer1.0-plugins-base"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strncmp(element, known[i].prefix, strlen(known[i].prefix)))
            return known[i].package;
    return NULL;
}

/* Parses a pipeline description into s->pipeline, with the grey appsink
 * appended unless the description has one; nothing is started. On a
 * missing element the line names it and the package that has it. */
static lpr_err parse_gst(lpr_source *s, const char *desc, const char *what)
{
    GError *err = NULL;
    char *full;
    if (strstr(desc, "appsink"))
        full = g_strdup(desc);
    else
        full = g_strdup_printf("%s ! videoconvert ! video/x-raw,format=GRAY8 ! "
                               "appsink name=lprsink sync=false max-buffers=%d drop=%s",
                               desc, s->live ? 2 : 8, s->live ? "true" : "false");
    GstParseContext *pc = gst_parse_context_new();
    s->pipeline = gst_parse_launch_full(full, pc, GST_PARSE_FLAG_FATAL_ERRORS, &err);
    g_free(full);
    if (!s->pipeline || err) {
        gchar **missing = pc ? gst_parse_context_get_missing_elements(pc) : NULL;
        if (err && g_error_matches(err, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT) &&
            missing && missing[0]) {
            const char *pkg = element_package(missing[0]);
            LPR_ERROR("source", "%s: GStreamer has no element '%s'%s%s%s", what, missing[0],
                      pkg ? " (install " : " (a plug-in package is missing)", pkg ? pkg : "",
                      pkg ? ")" : "");
        } else {
            LPR_ERROR("source", "%s: bad GStreamer pipeline: %s", what,
                      err ? err->message : "parse failed");
        }
        g_strfreev(missing);
        g_clear_error(&err);
        if (pc)
            gst_parse_context_free(pc);
        return LPR_EINVAL;
    }
    if (pc)
        gst_parse_context_free(pc);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(s->pipeline), "lprsink");
    if (!sink) {
        LPR_ERROR("source", "%s: the pipeline's appsink must be named lprsink", what);
        return LPR_EINVAL;
    }
    s->sink = GST_APP_SINK(sink);
    return LPR_OK;
}

/* Parses desc, then sets each named element's string property (a file's
 * URI, a camera's device path) on the element itself: a value pasted into
 * the description would be parsed as pipeline syntax (a '"' or a '!' in a
 * path could add elements), a property is only ever a value. */
static lpr_err open_gst_with(lpr_source *s, const char *desc, const char *what, const char *element,
                             const char *property, const char *value)
{
    lpr_err prc = parse_gst(s, desc, what);
    if (prc != LPR_OK)
        return prc;
    if (element) {
        GstElement *el = gst_bin_get_by_name(GST_BIN(s->pipeline), element);
        if (!el) {
            LPR_ERROR("source", "%s: no element %s in the pipeline", what, element);
            return LPR_EINTERNAL;
        }
        g_object_set(el, property, value, NULL);
        gst_object_unref(el);
    }
    if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        char *e = bus_error(s->pipeline, GST_SECOND);
        LPR_ERROR("source", "%s: cannot start: %s", what, e ? e : "state change failed");
        g_free(e);
        return LPR_EIO;
    }
    /* wait for the pipeline to preroll or fail, so that a missing file or a
     * broken stream is reported at open, not at the first frame */
    GstState st;
    GstStateChangeReturn r = gst_element_get_state(s->pipeline, &st, NULL, 10 * GST_SECOND);
    if (r == GST_STATE_CHANGE_FAILURE) {
        char *e = bus_error(s->pipeline, GST_SECOND);
        LPR_ERROR("source", "%s: cannot start: %s", what, e ? e : "pipeline failed");
        g_free(e);
        return LPR_EIO;
    }
    gint64 dur = -1;
    s->duration_ms = -1;
    s->last_pts_ms = -1;
    if (!s->live && gst_element_query_duration(s->pipeline, GST_FORMAT_TIME, &dur) && dur > 0)
        s->duration_ms = (int64_t)(dur / GST_MSECOND);
    LPR_DEBUG("source", "%s: duration %lld ms", what, (long long)s->duration_ms);
    return LPR_OK;
}

static lpr_err open_gst(lpr_source *s, const char *desc, const char *what)
{
    return open_gst_with(s, desc, what, NULL, NULL, NULL);
}

/* Opens a source; with check, makes every check that needs no camera
 * time (the spec, the file or device exists, the pipeline parses) and
 * returns LPR_OK with *out NULL instead of starting it. */
static lpr_err open_spec(const char *spec, const lpr_source_options *opts, int check,
                         lpr_source **out)
{
    lpr_source *s = calloc(1, sizeof *s);
    lpr_err rc = LPR_EINVAL;
    struct stat st;
    *out = NULL;
    if (!s)
        return LPR_ENOMEM;
    snprintf(s->spec, sizeof s->spec, "%s", spec);
    s->start_ms = lpr_monotonic_ms();
    GError *gerr = NULL;
    if (!gst_init_check(NULL, NULL, &gerr)) {
        LPR_ERROR("source", "GStreamer init failed: %s", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        free(s);
        return LPR_EIO;
    }
    gst_pb_utils_init();
    if (!strncmp(spec, "file:", 5)) {
        const char *path = spec + 5;
        if (stat(path, &st) != 0) {
            LPR_ERROR("source", "%s: %s", path, strerror(errno));
            rc = LPR_ENOENT;
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            snprintf(s->dir, sizeof s->dir, "%s", path);
            s->nnames = scandir(path, &s->names, filter_images, alphasort);
            if (s->nnames <= 0) {
                LPR_ERROR("source", "%s: no images in folder", path);
                rc = LPR_ENOENT;
                goto fail;
            }
            if (check)
                goto checked;
            *out = s;
            return LPR_OK;
        }
        if (st.st_size == 0) {
            LPR_ERROR("source", "%s: empty file", path);
            rc = LPR_EFORMAT;
            goto fail;
        }
        if (check)
            goto checked;
        char *loc = gst_filename_to_uri(path, NULL);
        if (!loc) {
            LPR_ERROR("source", "%s: cannot make a file URI of the path", path);
            rc = LPR_EINVAL;
            goto fail;
        }
        rc = open_gst_with(s, "uridecodebin name=lprfile", path, "lprfile", "uri", loc);
        g_free(loc);
        if (rc == LPR_EIO)
            rc = LPR_EFORMAT; /* a file that does not play is not a video we can read */
        int64_t avi = rc == LPR_OK ? avi_header_duration_ms(path) : -1;
        if (avi > s->duration_ms)
            s->duration_ms = avi;
    } else if (!strncmp(spec, "gst:", 4)) {
        s->live = 1;
        rc = check ? parse_gst(s, spec + 4, "gst pipeline") : open_gst(s, spec + 4, "gst pipeline");
    } else if (!strncmp(spec, "v4l2:", 5)) {
        const char *dev = spec + 5;
        s->live = 1;
        if (stat(dev, &st) != 0 || !S_ISCHR(st.st_mode)) {
            LPR_ERROR("source", "%s: no such camera device", dev);
            rc = LPR_ENOENT;
            goto fail;
        }
        if (check)
            goto checked;
        rc = open_gst_with(s, "v4l2src name=lprcam io-mode=mmap ! decodebin", dev, "lprcam",
                           "device", dev);
    } else if (!strncmp(spec, "libcamera", 9) && (spec[9] == '\0' || spec[9] == ':')) {
        s->live = 1;
        char *end = NULL;
        long index = spec[9] == ':' ? strtol(spec + 10, &end, 10) : 0;
        if (spec[9] == ':' && (end == spec + 10 || *end || index < 0)) {
            LPR_ERROR("source", "'%s': camera index is not a number", spec);
            rc = LPR_EINVAL;
            goto fail;
        }
#ifdef LPR_WITH_LIBCAMERA
        if (check)
            goto checked; /* only opening the camera tells */
        char err[256];
        lpr_source_options o = opts ? *opts : (lpr_source_options){0, 0, 0, 0};
        if (lpr_lc_open((int)index, o.width, o.height, o.exposure_us, (float)o.gain, &s->lc, err,
                        sizeof err) != 0) {
            LPR_ERROR("source", "%s", err);
            rc = LPR_ENOENT;
            goto fail;
        }
        rc = LPR_OK;
#else
        (void)opts;
        GstElementFactory *f = gst_element_factory_find("libcamerasrc");
        if (!f) {
            LPR_ERROR("source",
                      "%s: libcamera is not available (built without it, and no "
                      "gstreamer1.0-libcamera)",
                      spec);
            rc = LPR_ENOENT;
            goto fail;
        }
        gst_object_unref(f);
        if (check)
            goto checked;
        rc = open_gst(s, "libcamerasrc", spec);
#endif
    } else {
        LPR_ERROR("source", "'%s': not file:, gst:, v4l2: or libcamera[:N]", spec);
        rc = LPR_EINVAL;
    }
    if (rc == LPR_OK && check)
        goto checked;
    if (rc == LPR_OK) {
        *out = s;
        return LPR_OK;
    }
fail:
    lpr_source_close(s);
    return rc;
checked:
    lpr_source_close(s);
    return LPR_OK;
}

lpr_source_options lpr_source_options_from(const lpr_config *c)
{
    return (lpr_source_options){.width = c->camera.width,
                                .height = c->camera.height,
                                .exposure_us = c->camera.exposure_us,
                                .gain = c->camera.gain};
}

lpr_err lpr_source_open(const char *spec, const lpr_source_options *opts, lpr_source **out)
{
    return open_spec(spec, opts, 0, out);
}

lpr_err lpr_source_check(const char *spec)
{
    lpr_source *s = NULL;
    return open_spec(spec, NULL, 1, &s);
}

void lpr_source_close(lpr_source *s)
{
    if (!s)
        return;
#ifdef LPR_WITH_LIBCAMERA
    lpr_lc_close(s->lc);
#endif
    if (s->pipeline) {
        gst_element_set_state(s->pipeline, GST_STATE_NULL);
        gst_object_unref(s->pipeline);
    }
    if (s->sink)
        gst_object_unref(s->sink);
    for (int i = 0; i < s->nnames; i++)
        free(s->names[i]);
    free(s->names);
    free(s);
}

int lpr_source_is_live(const lpr_source *s)
{
    return s->live;
}
void lpr_source_set_timeout(lpr_source *s, int timeout_ms)
{
    s->timeout_ms = timeout_ms;
}
int64_t lpr_source_skipped(const lpr_source *s)
{
    return s->skipped;
}

static lpr_err read_still(lpr_source *s, lpr_frame *out)
{
    while (s->pos < s->nnames) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", s->dir, s->names[s->pos]->d_name);
        s->pos++;
        /* the header first: a small file may claim (and decode to) gigabytes */
        l_int32 fmt, hw, hh, bps, spp, iscmap;
        if (pixReadHeader(path, &fmt, &hw, &hh, &bps, &spp, &iscmap) == 0 &&
            (long)hw * (long)hh > LPR_DEFAULT_MAX_PIXELS) {
            LPR_WARN("source", "%s: image is %dx%d, over the limit of %ld pixels, skipped", path,
                     hw, hh, LPR_DEFAULT_MAX_PIXELS);
            s->skipped++;
            continue;
        }
        PIX *p = pixRead(path), *g = p ? pixConvertTo8(p, 0) : NULL;
        pixDestroy(&p);
        if (!g) {
            LPR_WARN("source", "%s: not a readable image, skipped", path);
            s->skipped++;
            continue;
        }
        int w = pixGetWidth(g), h = pixGetHeight(g);
        out->pixels = lpr_grey_from_pix(g);
        pixDestroy(&g);
        if (!out->pixels)
            return LPR_ENOMEM;
        out->width = w;
        out->height = h;
        out->stride = w;
        out->index = s->next_index++;
        out->pts_ms = (int64_t)out->index * STILL_INTERVAL_MS;
        out->wall_ms = 0;
        return LPR_OK;
    }
    return LPR_ENOENT;
}

lpr_err lpr_source_read(lpr_source *s, lpr_frame *out)
{
    memset(out, 0, sizeof *out);
#ifdef LPR_WITH_LIBCAMERA
    if (s->lc) {
        double since = lpr_monotonic_ms();
        for (;;) {
            int64_t ts = 0;
            int r = lpr_lc_read(s->lc, &out->pixels, &out->width, &out->height, &ts, 500);
            if (r == 0) {
                out->stride = out->width;
                out->index = s->next_index++;
                out->pts_ms = ts / 1000000;
                out->wall_ms = lpr_realtime_ms();
                return LPR_OK;
            }
            if (r < 0) {
                LPR_ERROR("source", "%s: camera stopped delivering frames", s->spec);
                return LPR_EIO;
            }
            if (s->timeout_ms > 0 && lpr_monotonic_ms() - since > s->timeout_ms) {
                LPR_ERROR("source", "%s: no frame within %d ms", s->spec, s->timeout_ms);
                return LPR_EIO;
            }
        }
    }
#endif
    if (!s->pipeline)
        return read_still(s, out);
    double waited_since = lpr_monotonic_ms();
    for (;;) {
        GstSample *sample = gst_app_sink_try_pull_sample(s->sink, 500 * GST_MSECOND);
        if (!sample) {
            char *e = bus_error(s->pipeline, 0);
            if (e) {
                LPR_ERROR("source", "%s: %s", s->spec, e);
                g_free(e);
                return LPR_EFORMAT;
            }
            if (gst_app_sink_is_eos(s->sink)) {
                /* demuxers end quietly at a cut; the container said longer */
                if (s->duration_ms > 0 && s->last_pts_ms >= 0 &&
                    s->last_pts_ms + 1000 < s->duration_ms) {
                    LPR_ERROR("source", "%s: truncated: footage stops at %.1f s of %.1f s",
                              s->spec + (strncmp(s->spec, "file:", 5) ? 0 : 5),
                              (double)s->last_pts_ms / 1000.0, (double)s->duration_ms / 1000.0);
                    return LPR_EFORMAT;
                }
                return LPR_ENOENT;
            }
            if (s->timeout_ms > 0 && lpr_monotonic_ms() - waited_since > s->timeout_ms) {
                LPR_ERROR("source", "%s: no frame within %d ms", s->spec, s->timeout_ms);
                return LPR_EIO;
            }
            continue; /* live source idle */
        }
        GstCaps *caps = gst_sample_get_caps(sample);
        GstBuffer *buf = gst_sample_get_buffer(sample);
        GstVideoInfo info;
        GstMapInfo map;
        if (!caps || !buf || !gst_video_info_from_caps(&info, caps) ||
            !gst_buffer_map(buf, &map, GST_MAP_READ)) {
            gst_sample_unref(sample);
            LPR_ERROR("source", "%s: frame without video caps", s->spec);
            return LPR_EFORMAT;
        }
        int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
        int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
        out->pixels = malloc((size_t)w * (size_t)h);
        if (!out->pixels) {
            gst_buffer_unmap(buf, &map);
            gst_sample_unref(sample);
            return LPR_ENOMEM;
        }
        for (int y = 0; y < h && (size_t)y * (size_t)stride + (size_t)w <= map.size; y++)
            memcpy(out->pixels + (size_t)y * (size_t)w, map.data + (size_t)y * (size_t)stride,
                   (size_t)w);
        out->width = w;
        out->height = h;
        out->stride = w;
        out->index = s->next_index++;
        GstClockTime pts = GST_BUFFER_PTS(buf);
        out->pts_ms = GST_CLOCK_TIME_IS_VALID(pts) ? (int64_t)(pts / GST_MSECOND)
                                                   : (int64_t)(lpr_monotonic_ms() - s->start_ms);
        out->wall_ms = s->live ? lpr_realtime_ms() : 0;
        s->last_pts_ms = out->pts_ms;
        gst_buffer_unmap(buf, &map);
        gst_sample_unref(sample);
        return LPR_OK;
    }
}
