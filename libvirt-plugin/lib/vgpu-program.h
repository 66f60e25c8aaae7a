/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every vgpu program (vgpuctl, the libvirt hook, the mdevctl call-out)
 * does first. Header-only: it needs the including program's LOCALEDIR.
 */
#pragma once

#include <locale.h>
#include <stdarg.h>

#include <glib.h>
#include <glib/gi18n.h>

/* Locale and message catalogue. VGPU_LOCALEDIR points an uninstalled build
 * (the tests) at its own catalogues. */
static inline void
vgpu_program_init_i18n (void)
{
    setlocale (LC_ALL, "");
    const char *localedir = g_getenv ("VGPU_LOCALEDIR");
    bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
    textdomain (GETTEXT_PACKAGE);
}

/* One line on standard error: "PREFIX: message", newlines in the message
 * folded, so that libvirt and mdevctl log it as one line. */
static inline void G_GNUC_PRINTF (2, 0)
vgpu_program_error (const char *prefix, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf (fmt, ap);
    g_strdelimit (msg, "\n", ' ');
    g_printerr ("%s: %s\n", prefix, msg);
}
