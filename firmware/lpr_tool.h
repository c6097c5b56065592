/*
 * lpr_tool.h - subcommands of the `lpr` operator tool. Each takes the
 * arguments after its name and returns the process exit code:
 * 0 success, 1 some input failed, 2 usage error.
 */
#ifndef LPR_TOOL_H
#define LPR_TOOL_H

int lpr_cmd_read(int argc, char **argv);
int lpr_cmd_keygen(int argc, char **argv);
int lpr_cmd_verify(int argc, char **argv);
int lpr_cmd_spool(int argc, char **argv);
int lpr_cmd_gps(int argc, char **argv);

/* Model directory to use when none is configured: the source tree's while
 * running from a build tree, else the installed one; NULL if neither holds
 * the named model (Tesseract's default tessdata is used then). */
const char *lpr_default_model_dir(const char *model);

#endif
