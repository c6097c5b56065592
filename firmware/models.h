/*
 * models.h - default plate model lookup (see models.c).
 */
#ifndef LPR_MODELS_H
#define LPR_MODELS_H

/* Folder holding MODEL.traineddata, or NULL for Tesseract's default. */
const char *lpr_default_model_dir(const char *model);

#endif
