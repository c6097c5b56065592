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
int lpr_cmd_replay(int argc, char **argv);
int lpr_cmd_doctor(int argc, char **argv);
int lpr_cmd_provision(int argc, char **argv);

#include "models.h"

#endif
