/*
 * libcamera_shim.cpp - see libcamera_shim.h. One camera, one YUV420 stream,
 * all buffers queued as requests; a completed request's Y plane is copied
 * into a one-slot mailbox (newest wins: the pipeline wants the latest frame)
 * and the request is queued again with the same controls.
 */
#include "libcamera_shim.h"

#include <sys/mman.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include <libcamera/libcamera.h>

using namespace libcamera;

struct lpr_lc {
    std::unique_ptr<CameraManager> cm;
    std::shared_ptr<Camera> camera;
    std::unique_ptr<CameraConfiguration> config;
    std::unique_ptr<FrameBufferAllocator> alloc;
    std::vector<std::unique_ptr<Request>> requests;
    Stream *stream = nullptr;
    int width = 0, height = 0, stride = 0;
    int exposure_us = 0;
    float gain = 0;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<uint8_t> frame;
    int64_t ts_ns = 0;
    bool have = false, started = false, failed = false;

    void completed(Request *req)
    {
        if (req->status() == Request::RequestCancelled)
            return;
        FrameBuffer *fb = req->buffers().begin()->second;
        const FrameBuffer::Plane &y = fb->planes()[0];
        void *map = mmap(nullptr, y.offset + y.length, PROT_READ, MAP_SHARED, y.fd.get(), 0);
        if (map != MAP_FAILED) {
            std::lock_guard<std::mutex> lock(mu);
            const uint8_t *src = static_cast<const uint8_t *>(map) + y.offset;
            frame.resize(static_cast<size_t>(width) * static_cast<size_t>(height));
            for (int r = 0; r < height; r++)
                std::memcpy(&frame[static_cast<size_t>(r) * static_cast<size_t>(width)],
                            src + static_cast<size_t>(r) * static_cast<size_t>(stride),
                            static_cast<size_t>(width));
            ts_ns = static_cast<int64_t>(fb->metadata().timestamp);
            have = true;
            munmap(map, y.offset + y.length);
        } else {
            std::lock_guard<std::mutex> lock(mu);
            failed = true;
        }
        cv.notify_one();
        req->reuse(Request::ReuseBuffers);
        set_controls(req);
        camera->queueRequest(req);
    }

    void set_controls(Request *req)
    {
        if (exposure_us > 0) {
            req->controls().set(controls::AeEnable, false);
            req->controls().set(controls::ExposureTime, exposure_us);
        }
        if (gain > 0)
            req->controls().set(controls::AnalogueGain, gain);
    }
};

extern "C" int lpr_lc_open(int index, int width, int height, int exposure_us, float gain,
                           lpr_lc **out, char *err, size_t errlen)
{
    auto c = std::make_unique<lpr_lc>();
    *out = nullptr;
    /* libcamera's own INFO/WARN lines would bury ours; errors still show
     * (LIBCAMERA_LOG_LEVELS in the environment overrides this) */
    setenv("LIBCAMERA_LOG_LEVELS", "*:ERROR", 0);
    c->cm = std::make_unique<CameraManager>();
    if (c->cm->start() != 0) {
        std::snprintf(err, errlen, "libcamera camera manager does not start");
        return -1;
    }
    auto cams = c->cm->cameras();
    if (cams.empty() || index < 0 || static_cast<size_t>(index) >= cams.size()) {
        std::snprintf(err, errlen, "libcamera:%d: no such camera (%zu found)", index, cams.size());
        c->cm->stop();
        return -1;
    }
    c->camera = cams[static_cast<size_t>(index)];
    if (c->camera->acquire() != 0) {
        std::snprintf(err, errlen, "libcamera:%d: camera busy (another program has it)", index);
        c->camera.reset();
        c->cm->stop();
        return -1;
    }
    c->config = c->camera->generateConfiguration({StreamRole::VideoRecording});
    StreamConfiguration &sc = c->config->at(0);
    sc.pixelFormat = formats::YUV420;
    if (width > 0 && height > 0)
        sc.size = Size(static_cast<unsigned>(width), static_cast<unsigned>(height));
    sc.bufferCount = 4;
    if (c->config->validate() == CameraConfiguration::Invalid ||
        c->camera->configure(c->config.get()) != 0 || sc.pixelFormat != formats::YUV420) {
        std::snprintf(err, errlen, "libcamera:%d: cannot configure a YUV420 stream", index);
        lpr_lc_close(c.release());
        return -1;
    }
    c->stream = sc.stream();
    c->width = static_cast<int>(sc.size.width);
    c->height = static_cast<int>(sc.size.height);
    c->stride = static_cast<int>(sc.stride);
    c->exposure_us = exposure_us;
    c->gain = gain;
    c->alloc = std::make_unique<FrameBufferAllocator>(c->camera);
    if (c->alloc->allocate(c->stream) < 0) {
        std::snprintf(err, errlen, "libcamera:%d: cannot allocate buffers", index);
        lpr_lc_close(c.release());
        return -1;
    }
    for (const auto &buf : c->alloc->buffers(c->stream)) {
        std::unique_ptr<Request> req = c->camera->createRequest();
        if (!req || req->addBuffer(c->stream, buf.get()) != 0) {
            std::snprintf(err, errlen, "libcamera:%d: cannot create requests", index);
            lpr_lc_close(c.release());
            return -1;
        }
        c->set_controls(req.get());
        c->requests.push_back(std::move(req));
    }
    lpr_lc *raw = c.get();
    c->camera->requestCompleted.connect(raw, &lpr_lc::completed);
    if (c->camera->start() != 0) {
        std::snprintf(err, errlen, "libcamera:%d: cannot start streaming", index);
        lpr_lc_close(c.release());
        return -1;
    }
    c->started = true;
    for (auto &req : c->requests)
        c->camera->queueRequest(req.get());
    *out = c.release();
    return 0;
}

extern "C" int lpr_lc_read(lpr_lc *c, uint8_t **pixels, int *w, int *h, int64_t *ts_ns,
                           int timeout_ms)
{
    std::unique_lock<std::mutex> lock(c->mu);
    if (!c->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 1000),
                        [c] { return c->have || c->failed; }))
        return 1;
    if (c->failed)
        return -1;
    *pixels = static_cast<uint8_t *>(std::malloc(c->frame.size()));
    if (!*pixels)
        return -1;
    std::memcpy(*pixels, c->frame.data(), c->frame.size());
    *w = c->width;
    *h = c->height;
    *ts_ns = c->ts_ns;
    c->have = false;
    return 0;
}

extern "C" void lpr_lc_close(lpr_lc *c)
{
    if (!c)
        return;
    if (c->camera) {
        if (c->started)
            c->camera->stop();
        c->camera->requestCompleted.disconnect(c);
        c->requests.clear();
        c->alloc.reset();
        c->camera->release();
        c->camera.reset();
    }
    if (c->cm)
        c->cm->stop();
    delete c;
}
