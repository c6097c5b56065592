/*
 * models.c - where the plate model is found when the config names none:
 * the source tree's ocr/models while running from a build tree, then the
 * installed share/lpr-edge/models, else Tesseract's own tessdata ("eng").
 */
#include <stdio.h>

#include "lpr_ocr.h"
#include "models.h"

const char *lpr_default_model_dir(const char *model)
{
    char file[256];
    snprintf(file, sizeof file, "%s.traineddata", model);
    return lpr_model_dir_with(file);
}

const char *lpr_default_model(void)
{
    return lpr_default_model_dir("lpr") ? "lpr" : "eng";
}
