/*
 * models.c - where the plate model is found when the config names none:
 * the source tree's ocr/models while running from a build tree, then the
 * installed share/lpr-edge/models, else Tesseract's own tessdata ("eng").
 */
#include <stdio.h>
#include <unistd.h>

#include "models.h"

const char *lpr_default_model_dir(const char *model)
{
    static const char *const dirs[] = {LPR_MODEL_DIR_SRC, LPR_MODEL_DIR_INSTALL};
    char path[4096];
    for (unsigned i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.traineddata", dirs[i], model);
        if (access(path, R_OK) == 0)
            return dirs[i];
    }
    return NULL;
}

const char *lpr_default_model(void)
{
    return lpr_default_model_dir("lpr") ? "lpr" : "eng";
}
