/*
 * lpr_main.c - the `lpr` operator tool: dispatches to subcommands.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lpr_ocr.h"
#include "lpr_tool.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: lpr COMMAND [ARGS]\n"
           "commands:\n"
           "  read [--json] [--region us|eu|br|auto] IMAGE|DIR...  read plates in photos\n"
           "  keygen --out DIR [--force]          make the device signing key\n"
           "  verify --pub PUB.pem [FILE]         check signed reads from a subscriber\n"
           "  spool stats|push|export --spool P   inspect or fill the spool\n"
           "  gps [--server H:P] [--json]         fixes from gpsd, or --nmea LOG\n"
           "  replay [--gps LOG] VIDEO|DIR        the camera pipeline over footage\n"
           "  doctor [--config FILE]              on-site check: camera, GPS, clock, keys, broker\n"
           "  provision --device-id ID --out DIR  keys, CSR and config for a new unit\n"
           "  hotlist sign|check ...              sign a list of wanted plates; check one\n"
           "run 'lpr COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    lpr_ocr_process_init(argv);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe or socket is an error return, not death */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lpr %s\n", LPR_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"read", lpr_cmd_read},      {"keygen", lpr_cmd_keygen},
                {"verify", lpr_cmd_verify},  {"spool", lpr_cmd_spool},
                {"gps", lpr_cmd_gps},        {"replay", lpr_cmd_replay},
                {"doctor", lpr_cmd_doctor},  {"provision", lpr_cmd_provision},
                {"hotlist", lpr_cmd_hotlist}};
    for (unsigned i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lpr: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
