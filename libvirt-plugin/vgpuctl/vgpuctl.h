/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vgpuctl — command-line tool for virtual GPUs: shared declarations of the
 * verb implementations (vgpuctl-sysfs.c, vgpuctl-xml.c, vgpuctl-virt.c) and
 * the helpers of vgpuctl.c.
 */
#pragma once

#include <glib.h>
#include <glib/gi18n.h>

#include "libvgpu.h"
#include "vgpu-autoptr.h"

/* Exit codes (documented in docs/vgpuctl.1 and "vgpuctl --help"). */
typedef enum {
    VGPUCTL_EXIT_OK = 0,        /* the command did what was asked */
    VGPUCTL_EXIT_FAILED = 1,    /* it failed; nothing was changed */
    VGPUCTL_EXIT_USAGE = 2,     /* wrong verb, option or argument count */
    VGPUCTL_EXIT_INVALID = 3,   /* an XML document is malformed or invalid */
    VGPUCTL_EXIT_PENDING = 4,   /* detach requested, but the guest still
                                 * holds the vGPU; it is removed at stop */
} VgpuctlExit;

/* How long create/remove wait for the kernel by default, in seconds. */
#define VGPUCTL_DEFAULT_TIMEOUT_S 10

/* One verb: "vgpuctl NAME ARGS". @run gets argv[0] = NAME. */
typedef struct VgpuctlVerb VgpuctlVerb;
struct VgpuctlVerb {
    const char *name;
    const char *params;        /* parameter string for --help (untranslated syntax) */
    const char *summary;       /* N_() one-line description */
    int (*run) (const VgpuctlVerb *verb, int argc, char **argv);
    const char *module;        /* a verb of a module (vgpuctl.c): its file name */
    const char *symbol;        /* and the function that runs it there */
};

/* Prints "vgpuctl: MESSAGE" as one line on standard error (newlines inside
 * MESSAGE become "; "). */
void vgpuctl_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

/* Prints @error's message like vgpuctl_error and returns the exit code that
 * fits its kind (VGPUCTL_EXIT_INVALID for XML errors, else FAILED). */
int vgpuctl_report (const GError *error);

/* Parses the options of one verb. @entries may be NULL. Checks that between
 * @min_args and @max_args (-1: unlimited) positional arguments remain; on
 * any problem prints one line and returns FALSE (exit VGPUCTL_EXIT_USAGE). */
gboolean vgpuctl_parse (const VgpuctlVerb *verb, const char *description,
                        const GOptionEntry *entries, int *argc, char ***argv,
                        int min_args, int max_args);

/* The bind/remove wait in milliseconds for @seconds (negative: default,
 * $VGPU_TIMEOUT_MS when set). */
guint vgpuctl_timeout_ms (int seconds);

/* Reads and parses @path ("-" = standard input). On failure reports the
 * error, sets *@rc to its exit code (FAILED for I/O, INVALID for a bad
 * document) and returns NULL. */
xmlDoc *vgpuctl_read_doc (const char *path, int *rc);
/* Validates @doc as @kind; an error is reported with @path. Returns an exit
 * status: VGPUCTL_EXIT_OK when valid. */
int vgpuctl_validate_doc (const char *path, xmlDoc *doc, VgpuDocKind kind);

/* Writes @doc formatted to standard output. */
void vgpuctl_print_doc (xmlDoc *doc);

/* Verbs. In vgpuctl-sysfs.so, loaded by the verbs that need it (vgpuctl.c). */
int vgpuctl_cmd_list (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_types (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_create (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_remove (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_qemu_args (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_handoff (const VgpuctlVerb *verb, int argc, char **argv);
/* In vgpuctl itself. */
int vgpuctl_cmd_to_native (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_from_native (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_validate (const VgpuctlVerb *verb, int argc, char **argv);
/* In vgpuctl-virt.so, loaded by the verbs that need libvirt (vgpuctl.c). */
int vgpuctl_cmd_define (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_attach (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_detach (const VgpuctlVerb *verb, int argc, char **argv);
int vgpuctl_cmd_orphans (const VgpuctlVerb *verb, int argc, char **argv);
