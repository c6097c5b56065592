/*
 * tuning.h - private: the reader's tuning constants, in the order a frame
 * meets them, each with its unit and reason.
 *
 * The learned models decide what is a plate, what it says and how sure
 * that is; these constants bound the work, shape the crops the models were
 * trained on, and weigh the hand-made second opinion. A crop constant is
 * part of its model: change it and retrain (ocr/train/train-networks.sh).
 * Format limits of the model files stay with their parsers (nn.c,
 * classify.c).
 */
#ifndef LPR_TUNING_H
#define LPR_TUNING_H

/* --- locate.c: character-first line finding ---------------------------- */
/* px: larger images are shrunk to this side first, smaller ones enlarged
 * toward it (at most 2x), so a small plate's characters reach MIN_CHAR_H */
#define DETECT_MAX_DIM 1280
#define MAX_COMPONENTS 20000  /* per binary image: bounds the work on a noisy frame */
#define MIN_CHAR_H 9          /* px at the detection scale: shorter cannot be read */
#define MAX_CHAR_H 90         /* px: taller are found at the half-scale level */
#define MAX_LINES_PER_PASS 64 /* lines kept from one binary image before ranking */
/* px: the binarisation window is 25 x 25, about two character heights of a
 * small plate (pixels.c holds the contrast rule itself) */
#define LOCATE_MEAN_HALF 12

/* --- crop.c: the views the networks see -------------------------------- */
#define MIN_SPREAD 4.0f /* grey levels: a flatter crop is left unscaled */
/* verify.c: the verifier's view, in character heights */
#define VERIFY_SIDE_PAD 1.4f /* left and right of the line */
#define VERIFY_HALF_H 1.6f   /* above and below the line's middle */
/* reader.c: the whole-plate reader's view, in character heights */
#define READ_SIDE_PAD 1.0f    /* left and right of the line */
#define READ_HALF_H 0.9f      /* above and below the line's middle */
#define READ_MIN_ALT_P 0.005f /* probability: a less likely alternative is no candidate */

/* --- ocr.c: from read lines to plates ---------------------------------- */
#define MIN_PLATE_CHARS 4 /* characters: shorter reads are no plate of any region */
/* The second opinion reads a line only when the calibration gives the
 * whole-plate reader's read alone at least this probability (percent) of
 * being the plate. Below it a read is dropped by the default floor whatever
 * a second reader says: on held-out training reads this gate lost no right
 * read (20 lost 2 of 356) and skipped every line of the plate-free scenes
 * (ocr/models/README.md), and the second opinion was two thirds of a
 * plate-free frame's instructions. */
#define SECOND_OPINION_GATE 10.0f
#define SECOND_ONLY 3 /* of the second opinion's own texts, how many join the candidates */
/* confidence points a whole plate may trail a fragment of it and still
 * replace it */
#define FRAGMENT_MARGIN 10.0f

/* --- candidates.c: texts under the region's formats ------------------- */
#define DROPPED_ONE 0.95f /* confidence factor per position dropped to fit a series */
#define OFF_FORMAT 0.9f   /* eu: factor of a reading that fits no series */
#define LOOKALIKE 0.85f   /* factor of the blur-alike pairs against the font twins */
#define BEAM 48           /* texts kept per position by the beam search */

/* --- recognize.c: the second opinion (classifier + Tesseract) ---------- */
#define TARGET_CHAR_H 36     /* px: the line is scaled so its characters are this tall */
#define LINE_BORDER 12       /* px of white around the line Tesseract is given */
#define SIDE_MARGIN 0.6f     /* of char_h, each side of the localiser's line */
#define EDGE_MARGIN 1.3f     /* of char_h: the wider look for a lost edge character */
#define EDGE_CONF 85.0f      /* classifier conf an edge character found so must have */
#define SEG_CONFIDENT 80.0f  /* mean conf of the clean form that spares the grey form's pass */
#define MIN_CELL_H 0.55f     /* of TARGET_CHAR_H: shorter cells are no character */
#define CLF_CONFIDENT 90.0f  /* classifier mean conf that spares the grey pass */
#define LSTM_WEIGHT 0.4f     /* LSTM share when merged with the classifier */
#define CLF_ALONE 0.9f       /* classifier's weight against an LSTM of other length */
#define CLF_TRUSTED 90.0f    /* classifier mean conf, binarisations agreeing, that skips the LSTM */
#define LSTM_MIN_CELLS 4     /* classifier cells a line needs before the LSTM reads it */
#define LOCAL_THRESHOLD 1000 /* line_clean_binary: Sauvola instead of a global threshold */
#define THRESH_STEP 25       /* grey levels between the classifier's binarisations */
#define MIN_INK 0.06f        /* share of dark pixels below which a line's threshold failed */
#define CELL_SLACK 0.1f      /* of the character rows: how far a cell may reach beyond them */
#define PEEL_VLINE 1.6f      /* of TARGET_CHAR_H: a frame side fused to a character is taller */

#endif
