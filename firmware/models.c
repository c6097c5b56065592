/*
 * models.c - where a Tesseract model named in the config (or --model) is
 * found when no folder is given: beside the shipped models (the source
 * tree's ocr/models from a build tree, the installed share/lpr-edge/models),
 * else Tesseract's own tessdata, where Debian's tesseract-ocr-eng puts
 * "eng", the default. No .traineddata is shipped: the learned reader reads,
 * Tesseract gives the second opinion.
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
