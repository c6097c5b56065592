/*
 * cmd_provision.c - `lpr provision --device-id ID --out DIR`: everything a
 * new unit needs, in one folder: the signing key (0600) and its public key,
 * a TLS key (0600) with a CSR for the fleet CA (CN = the device id, which
 * the broker's ACL uses), and lpr.conf filled in for those files. Prints the
 * signing key id. Refuses to overwrite a key without --force.
 *
 * An lpr.conf already there (the package's, or one the tech edited) is kept:
 * only [device] id, [uplink] host (with --broker) and the four key and
 * certificate paths are set in it, every other line stays. --config-only
 * does just that for the keys already in DIR (same key id).
 *
 * Run as root on an installed unit (the service users exist), the keys go
 * to lpr-uplink, the one that signs and talks TLS (0600), lpr.conf to
 * root:lpr 0640 and a folder it makes to root:lpr 0750, so both daemons
 * read what they need and nothing else does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpr_config.h"
#include "lpr_sign.h"
#include "lpr_tool.h"

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

typedef struct conf_setting {
    const char *section, *key;
    char value[1100];
    int done;
} conf_setting;

static int is_key_line(const char *line, const char *key)
{
    line += strspn(line, " \t");
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return 0;
    line += n;
    line += strspn(line, " \t");
    return *line == '=';
}

static void put_missing(FILE *out, const char *section, conf_setting *set, int n)
{
    for (int i = 0; i < n; i++)
        if (!set[i].done && !strcmp(set[i].section, section)) {
            fprintf(out, "%s = %s\n", set[i].key, set[i].value);
            set[i].done = 1;
        }
}

/* Sets the given keys in the INI file at path, keeping every other line
 * (comments too): a key's line in its section is replaced, a missing key is
 * added at the end of its section, a missing section at the end. Written to
 * a temporary file and renamed over, with the old file's mode and owner. */
static int conf_set(const char *path, conf_setting *set, int n)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "lpr provision: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char line[2048], section[64] = "";
    while (out && fgets(line, sizeof line, in)) {
        const char *t = line + strspn(line, " \t");
        if (*t == '[') {
            put_missing(out, section, set, n);
            const char *e = strchr(t, ']');
            snprintf(section, sizeof section, "%.*s", e ? (int)(e - t - 1) : 0, t + 1);
            fputs(line, out);
            continue;
        }
        int replaced = 0;
        for (int i = 0; i < n && !replaced; i++)
            if (!strcmp(set[i].section, section) && is_key_line(line, set[i].key)) {
                if (!set[i].done)
                    fprintf(out, "%s = %s\n", set[i].key, set[i].value);
                set[i].done = replaced = 1; /* a second line of that key is dropped */
            }
        if (!replaced)
            fputs(line, out);
    }
    int bad = ferror(in) || fstat(fileno(in), &st) != 0;
    fclose(in);
    if (!out || bad) {
        if (out)
            fclose(out);
        free(buf);
        fprintf(stderr, "lpr provision: %s: cannot read it\n", path);
        return -1;
    }
    put_missing(out, section, set, n);
    for (int i = 0; i < n; i++)
        if (!set[i].done) {
            fprintf(out, "\n[%s]\n", set[i].section);
            put_missing(out, set[i].section, set, n);
        }
    fclose(out);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.provision-tmp", path);
    unlink(tmp); /* a leftover, or a planted symlink: never written through */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
    int ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len &&
             fchmod(fd, st.st_mode & 07777) == 0 &&
             (geteuid() != 0 || fchown(fd, st.st_uid, st.st_gid) == 0) && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    free(buf);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        fprintf(stderr, "lpr provision: %s: cannot write it: %s\n", path, strerror(e));
        return -1;
    }
    return 0;
}

/* Root on an installed unit: the keys to the uplink's user, the config and
 * a folder we made to group lpr. Nothing to do on a build machine. */
static int hand_over(const char *dir, int made_dir, const char *conf)
{
    struct passwd *pw;
    struct group *gr = getgrnam(LPR_GROUP);
    if (geteuid() != 0 || !gr)
        return 0;
    gid_t lpr = gr->gr_gid;
    /* the device key seals reads as lprd spools them: only the camera user
     * reads it; the TLS key is the uplink's MQTT identity */
    static const char *const keys[] = {"device.key", "device-tls.key"};
    static const char *const users[] = {LPR_USER_CAMERA, LPR_USER_UPLINK};
    char path[1100];
    for (int i = 0; i < 2; i++) {
        if (!(pw = getpwnam(users[i])))
            return 0; /* not a unit with the package's users: keys stay root's */
        snprintf(path, sizeof path, "%s/%s", dir, keys[i]);
        if (chown(path, pw->pw_uid, lpr) != 0 || chmod(path, 0600) != 0) {
            fprintf(stderr, "lpr provision: %s: cannot give it to %s: %s\n", path, users[i],
                    strerror(errno));
            return -1;
        }
    }
    if (chown(conf, 0, lpr) != 0 || chmod(conf, 0640) != 0 ||
        (made_dir && (chown(dir, 0, lpr) != 0 || chmod(dir, 0750) != 0))) {
        fprintf(stderr, "lpr provision: %s: cannot give it to group %s: %s\n",
                made_dir ? dir : conf, LPR_GROUP, strerror(errno));
        return -1;
    }
    fprintf(stderr,
            "lpr provision: in %s, device.key belongs to %s and device-tls.key to %s (0600), "
            "%s to root:%s (0640)\n",
            dir, LPR_USER_CAMERA, LPR_USER_UPLINK, conf, LPR_GROUP);
    return 0;
}

int lpr_cmd_provision(int argc, char **argv)
{
    static const struct option opts[] = {{"device-id", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"broker", required_argument, NULL, 'b'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"config-only", no_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *id = NULL, *dir = NULL, *broker = NULL;
    int force = 0, config_only = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:o:b:fch", opts, NULL)) != -1) {
        switch (c) {
        case 'd': id = optarg; break;
        case 'o': dir = optarg; break;
        case 'b': broker = optarg; break;
        case 'f': force = 1; break;
        case 'c': config_only = 1; break;
        case 'h':
            printf("usage: lpr provision --device-id ID --out DIR [--broker HOST] [--force]\n"
                   "       lpr provision --config-only --device-id ID --out DIR [--broker HOST]\n"
                   "Writes DIR/device.key + device.pub.pem (signing), DIR/device-tls.key +\n"
                   "device.csr (CN=ID, for the fleet CA to sign into DIR/device.crt) and\n"
                   "DIR/lpr.conf; prints the signing key id. A key is replaced only with\n"
                   "--force. An existing DIR/lpr.conf is kept, with [device] id, [uplink] host\n"
                   "(--broker) and the key paths set in it. --config-only: no new keys, only\n"
                   "that for the keys already in DIR. As root with the package installed, the\n"
                   "keys go to %s (0600) and lpr.conf to root:%s (0640).\n",
                   LPR_USER_UPLINK, LPR_GROUP);
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
    if (lpr_device_id_reserved(id)) {
        fprintf(stderr,
                "lpr provision: --device-id '%s' is reserved for the fleet's own services "
                "(the broker's ACL gives it powers no camera may have)\n",
                id);
        return 2;
    }
    char conf[1024], key[1100];
    snprintf(conf, sizeof conf, "%s/lpr.conf", dir);
    snprintf(key, sizeof key, "%s/device.key", dir);
    int made_dir = mkdir(dir, 0700) == 0;
    if (!made_dir && errno != EEXIST) {
        fprintf(stderr, "lpr provision: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char kid[LPR_KID_LEN];
    if (config_only) {
        lpr_signer *s;
        char tls[1100];
        snprintf(tls, sizeof tls, "%s/device-tls.key", dir);
        if (access(tls, F_OK) != 0 || lpr_signer_load(key, &s) != LPR_OK) {
            fprintf(stderr, "lpr provision: --config-only needs the keys in %s (%s, %s): %s\n", dir,
                    key, tls, access(tls, F_OK) ? strerror(errno) : "signing key does not load");
            return 1;
        }
        snprintf(kid, sizeof kid, "%s", lpr_signer_kid(s));
        lpr_signer_free(s);
    } else if (lpr_keygen(dir, force, kid) != LPR_OK ||
               lpr_make_tls_csr(dir, id, force) != LPR_OK) {
        return 1; /* the reason was logged naming the file */
    }
    if (access(conf, F_OK) == 0) {
        conf_setting set[] = {{"device", "id", "", 0},       {"uplink", "ca", "", 0},
                              {"uplink", "cert", "", 0},     {"uplink", "key", "", 0},
                              {"uplink", "sign_key", "", 0}, {"uplink", "host", "", 0}};
        snprintf(set[0].value, sizeof set[0].value, "%s", id);
        snprintf(set[1].value, sizeof set[1].value, "%s/fleet-ca.crt", dir);
        snprintf(set[2].value, sizeof set[2].value, "%s/device.crt", dir);
        snprintf(set[3].value, sizeof set[3].value, "%s/device-tls.key", dir);
        snprintf(set[4].value, sizeof set[4].value, "%s", key);
        snprintf(set[5].value, sizeof set[5].value, "%s", broker ? broker : "");
        if (conf_set(conf, set, broker ? 6 : 5) != 0)
            return 1;
        fprintf(stderr,
                "lpr provision: %s kept; [device] id, %s[uplink] ca, cert, key and "
                "sign_key set\n",
                conf, broker ? "[uplink] host, " : "");
    } else {
        int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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
                "[gps]\nserver = " LPR_GPSD_SERVER "\n\n"
                "[spool]\npath = /var/lib/lpr/spool.db\nmax_mb = 512\nmax_age_days = 30\n\n"
                "[uplink]\nhost = %s\nport = 8883\nca = %s/fleet-ca.crt\ncert = %s/device.crt\n"
                "key = %s/device-tls.key\nsign_key = %s/device.key\n",
                id, id, broker ? broker : "broker.example.org", dir, dir, dir, dir);
        if (fclose(f) != 0) {
            fprintf(stderr, "lpr provision: %s: write failed\n", conf);
            return 1;
        }
    }
    if (hand_over(dir, made_dir, conf) != 0)
        return 1;
    printf("%s\n", kid);
    return 0;
}
