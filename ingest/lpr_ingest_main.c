/*
 * lpr_ingest_main.c - lpr-ingest: the reference read store's ingest (see
 * lpr_ingest.h). Runs until SIGTERM or SIGINT; prints its counts then.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_ingest.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lpr-ingest --host HOST [--port N] --ca FILE --cert FILE --key FILE\n"
               "                  --keys DIR --db FILE|URI [--group NAME] [--client-id ID]\n"
               "                  [--topic-root ROOT] [--insecure] [--print]\n"
               "The reference read store: takes the reads every device publishes (a shared\n"
               "subscription, so several instances split them), verifies each with\n"
               "DIR/<device>.pub.pem, stores it once in the store DB, and\n"
               "sends the device a receipt for what is stored (lpr.conf [uplink]\n"
               "delete_on = receipt: the device deletes a read only then).\n"
               "  --host, --port   the broker (port default 8883, TLS)\n"
               "  --ca, --cert, --key  the fleet CA, the store's certificate and key\n"
               "  --keys DIR       one public key per device: DIR/<device id>.pub.pem\n"
               "  --db FILE|URI    the store: an SQLite file (made if missing), or PostgreSQL:\n"
               "                   postgresql://USER@HOST/DB (libpq's URI; the tables are made)\n"
               "  --group NAME     shared subscription group (default lpr-ingest)\n"
               "  --client-id ID   MQTT client id, one per instance (default lpr-ingest-<host>)\n"
               "  --topic-root R   default lpr/v1/\n"
               "  --insecure       plaintext MQTT (a broker on 127.0.0.1 only)\n"
               "  --print          one line per read stored, on stdout\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"ca", required_argument, NULL, 'a'},
                                         {"cert", required_argument, NULL, 'c'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"keys", required_argument, NULL, 'K'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"client-id", required_argument, NULL, 'i'},
                                         {"topic-root", required_argument, NULL, 't'},
                                         {"insecure", no_argument, NULL, 'I'},
                                         {"print", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    lpr_ingest_options o;
    lpr_ingest_options_defaults(&o);
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *dst = NULL;
        size_t n = 0;
        switch (c) {
        case 'H': dst = o.host, n = sizeof o.host; break;
        case 'a': dst = o.ca, n = sizeof o.ca; break;
        case 'c': dst = o.cert, n = sizeof o.cert; break;
        case 'k': dst = o.key, n = sizeof o.key; break;
        case 'K': dst = o.keys_dir, n = sizeof o.keys_dir; break;
        case 'd': dst = o.db, n = sizeof o.db; break;
        case 'g': dst = o.group, n = sizeof o.group; break;
        case 'i': dst = o.client_id, n = sizeof o.client_id; break;
        case 't': dst = o.topic_root, n = sizeof o.topic_root; break;
        case 'I': o.insecure = 1; break;
        case 'P': o.print = 1; break;
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 65535) {
                fprintf(stderr, "lpr-ingest: --port %s: not a port number\n", optarg);
                return 2;
            }
            o.port = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (dst && (size_t)snprintf(dst, n, "%s", optarg) >= n) {
            fprintf(stderr, "lpr-ingest: %s: too long\n", optarg);
            return 2;
        }
    }
    const char *missing = !o.host[0]       ? "--host"
                          : !o.keys_dir[0] ? "--keys"
                          : !o.db[0]       ? "--db"
                          : o.insecure     ? NULL
                          : !o.ca[0]       ? "--ca"
                          : !o.cert[0]     ? "--cert"
                          : !o.key[0]      ? "--key"
                                           : NULL;
    if (missing) {
        fprintf(stderr, "lpr-ingest: %s is required (--help)\n", missing);
        return 2;
    }
    volatile sig_atomic_t *stop = lpr_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    lpr_ingest *g;
    lpr_err rc = lpr_ingest_new(&o, &g);
    if (rc != LPR_OK) {
        fprintf(stderr, "lpr-ingest: cannot start: %s\n", lpr_strerror(rc));
        return 1;
    }
    rc = lpr_ingest_run(g, stop);
    lpr_ingest_counters n;
    lpr_ingest_get_counters(g, &n);
    fprintf(stderr,
            "lpr-ingest: received %lld, stored %lld, repeats %lld, conflicts %lld, rejected "
            "%lld, receipts %lld\n",
            (long long)n.received, (long long)n.stored, (long long)n.repeats,
            (long long)n.conflicts, (long long)n.rejected, (long long)n.receipts);
    lpr_ingest_free(g);
    return rc == LPR_OK ? 0 : 1;
}
