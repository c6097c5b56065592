/*
 * nn.h - private: a small convolutional network, run in plain C.
 *
 * The models the reader ships (the plate verifier, the plate reader) are
 * tens to hundreds of thousands of weights: a chain of 3x3 convolutions
 * (same padding, ReLU, optional 2x2 max-pool), column layers and dense
 * layers over one grey crop. At that size a BLAS call costs more in
 * packing than it saves (the verifier runs in ~2.5 M multiply-adds per
 * crop, the reader in ~19 M), so the loops are written to vectorise and the
 * weights are laid out for them by the training scripts.
 *
 * File format (little-endian), written by ocr/train/train_verifier.py
 * (a file may hold several networks, one such block after another:
 * lpr_nn_load_all):
 *   "LPRNN01\n"
 *   u32 in_c, in_h, in_w, n_layers
 *   per layer: u32 kind (1 conv3x3, 2 dense, 3 columns), u32 out, u32 flags
 *              (bit 0 ReLU, bit 1 max-pool 2x2 after; conv only)
 *   then per layer its weights: conv f32 W[out][in_c][3][3], f32 b[out];
 *                               dense f32 W[out][in], f32 b[out];
 *                               columns f32 W[out][in_c][in_h], f32 b[out]
 *   A column layer maps each column of its c x h x w input to 'out' values
 *   (a convolution of kernel h x 1): its output is out x 1 x w.
 *   (batch normalisation is folded into W and b at export)
 * A dense layer after a convolution reads the feature map flattened as
 * [channel][row][column] (PyTorch's order).
 */
#ifndef LPR_NN_H
#define LPR_NN_H

#include "lpr_common.h"

typedef struct lpr_nn lpr_nn;

/* Loads a network; logs one line naming the file and the reason (missing,
 * not a network, wrong version, shapes that do not chain, truncated or
 * trailing bytes, non-finite weights) and returns LPR_ENOENT / LPR_EIO /
 * LPR_EFORMAT. 'what' names the model in that line ("plate verifier"). */
lpr_err lpr_nn_load(const char *path, const char *what, lpr_nn **out);
void lpr_nn_free(lpr_nn *nn);

/* lpr_nn_load, then refuses (one line, LPR_EFORMAT) a network whose input
 * is not c x h x w or whose output count is not 'outputs'. */
lpr_err lpr_nn_load_shaped(const char *path, const char *what, int c, int h, int w, int outputs,
                           lpr_nn **out);

/* The shape a model must have: c x h x w in, 'outputs' out; 'what' names
 * it in a log line ("text model"). */
typedef struct lpr_nn_shape {
    const char *what;
    int c, h, w, outputs;
} lpr_nn_shape;

/* Loads the n networks a file holds one after another (LPRNN01 blocks,
 * nothing between or after them), each checked against shapes[i]; one
 * line naming the file and the reason (the network of a wrong shape; a
 * file that ends early, as one written for fewer networks does). On error
 * every out[i] is NULL. */
lpr_err lpr_nn_load_all(const char *path, const char *what, int n, const lpr_nn_shape *shapes,
                        lpr_nn **out);

/* Input shape; number of outputs (the last layer's c x h x w). */
void lpr_nn_input(const lpr_nn *nn, int *c, int *h, int *w);
int lpr_nn_outputs(const lpr_nn *nn);

/* Runs the network on in[c*h*w] (channel, row, column), writes the last
 * layer's raw outputs to out. Not thread-safe for one lpr_nn (it owns its
 * scratch buffers): one per thread, as with lpr_ocr. */
void lpr_nn_run(lpr_nn *nn, const float *in, float *out);

#endif
