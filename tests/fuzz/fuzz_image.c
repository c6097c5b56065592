/*
 * fuzz_image.c - libFuzzer target for the image entry point: any bytes
 * handed to lpr_ocr_read_mem() must give LPR_OK or an error code, never a
 * crash, hang or leak. Build with -DLPR_FUZZ=ON and clang; corpus in
 * tests/fuzz/corpus/image.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lpr_ocr.h"

static lpr_ocr *ocr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ocr) {
        lpr_ocr_config cfg;
        lpr_ocr_config_init(&cfg);
        cfg.max_pixels = 4L * 1000 * 1000; /* keep each run fast */
        lpr_log_set_level(LPR_LOG_ERROR + 1);
        if (lpr_ocr_new(&cfg, &ocr) != LPR_OK)
            abort();
    }
    lpr_ocr_result r;
    (void)lpr_ocr_read_mem(ocr, data, size, "fuzz", &r);
    return 0;
}
