/*
 * cmd_provision.c - `lpr provision --device-id ID --out DIR`: everything a
 * new unit needs, in one folder: the signing key (0600) and its public key,
 * a TLS key (0600) with a CSR for the fleet CA (CN = the device id, which
 * the broker's ACL uses), and lpr.conf filled in for those files. Prints the
 * signing key id. Refuses to overwrite anything without --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpr_sign.h"
#include "lpr_tool.h"

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int lpr_cmd_provision(int argc, char **argv)
{
    static const struct option opts[] = {{"device-id", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"broker", required_argument, NULL, 'b'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *id = NULL, *dir = NULL, *broker = "broker.example.org";
    int force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:o:b:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': id = optarg; break;
        case 'o': dir = optarg; break;
        case 'b': broker = optarg; break;
        case 'f': force = 1; break;
        case 'h':
            printf("usage: lpr provision --device-id ID --out DIR [--broker HOST] [--force]\n"
                   "Writes DIR/device.key + device.pub.pem (signing), DIR/device-tls.key +\n"
                   "device.csr (CN=ID, for the fleet CA to sign into DIR/device.crt) and\n"
                   "DIR/lpr.conf; prints the signing key id.\n");
            return 0;
        default: return 2;
        }
    }
    if (!id || !dir) {
        fprintf(stderr, "lpr provision: --device-id and --out are required\n");
        return 2;
    }
    if (!valid_id(id)) {
        fprintf(stderr, "lpr provision: --device-id '%s': letters, digits, '_' or '-' only\n", id);
        return 2;
    }
    char conf[1024];
    snprintf(conf, sizeof conf, "%s/lpr.conf", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "lpr provision: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (!force && access(conf, F_OK) == 0) {
        fprintf(stderr, "lpr provision: %s exists; use --force to replace it\n", conf);
        return 1;
    }
    char kid[LPR_KID_LEN];
    if (lpr_keygen(dir, force, kid) != LPR_OK || lpr_make_tls_csr(dir, id, force) != LPR_OK)
        return 1; /* the reason was logged naming the file */
    int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "lpr provision: %s: %s\n", conf, strerror(errno));
        return 1;
    }
    fprintf(f,
            "# lpr-edge configuration for %s, written by lpr provision.\n"
            "# Fill in owner, model and the camera source; have the fleet CA sign\n"
            "# device.csr into device.crt, and put the CA certificate at fleet-ca.crt.\n"
            "[device]\nid = %s\nowner = \nmodel = \n\n"
            "[camera]\nsource = libcamera\nid = cam0\n\n"
            "[ocr]\nregion = auto\n\n"
            "[gps]\nserver = 127.0.0.1:2947\n\n"
            "[spool]\npath = /var/lib/lpr/spool.db\nmax_mb = 512\nmax_age_days = 30\n\n"
            "[uplink]\nhost = %s\nport = 8883\nca = %s/fleet-ca.crt\ncert = %s/device.crt\n"
            "key = %s/device-tls.key\nsign_key = %s/device.key\n",
            id, id, broker, dir, dir, dir, dir);
    if (fclose(f) != 0) {
        fprintf(stderr, "lpr provision: %s: write failed\n", conf);
        return 1;
    }
    printf("%s\n", kid);
    return 0;
}
