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
int lpr_cmd_hotlist(int argc, char **argv);

#include "models.h"

/* The tools that append to a spool (lpr replay --spool, lpr spool push)
 * seal what they append with the device key at key, as lprd does: 0, or -1
 * with one line naming the key (tool: the command, for the line). With no
 * key (key NULL or empty) the reads are spooled unsealed, said in one line:
 * lprd seals them when it starts on that spool, and the uplink sends none
 * before. *signer: free it after closing the spool. */
struct lpr_spool;
struct lpr_signer;
int lpr_tool_seal(struct lpr_spool *spool, const char *key, const char *tool,
                  struct lpr_signer **signer);

#endif
