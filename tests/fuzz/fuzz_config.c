/*
 * fuzz_config.c - libFuzzer target for the config loader (inih under
 * lpr_config_load_string): any bytes must give a config or one error
 * line, never a crash, a read out of bounds or an error without text; a
 * config that loads maps to every component's options without trouble.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_config.h"
#include "lpr_spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0'; /* the loader reads text up to its NUL, as from a file */
    lpr_config cfg;
    char err[600] = "";
    lpr_err rc = lpr_config_load_string(text, "fuzz.conf", &cfg, err, sizeof err);
    if (rc != LPR_OK && !err[0])
        abort(); /* every refusal says why */
    if (rc == LPR_OK) {
        lpr_spool_opts so = lpr_spool_opts_from_config(&cfg);
        if (!so.device_id || strlen(cfg.device.id) >= sizeof cfg.device.id)
            abort();
    }
    free(text);
    return 0;
}
